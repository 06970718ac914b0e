"""``peaktrade agent --host-id H`` (DESIGN 11): one per host; claims, launches, stops and watches its runs.

Each tick (``heartbeat_s``, or at once when a run is queued: LISTEN on the runs channel):

1. heartbeat (stamped by the store's clock); an agent that learns it was declared lost says so;
2. claim queued runs pinned to this host or unpinned (``FOR UPDATE SKIP LOCKED``) and launch them with
   the local launcher (detached processes: they outlive the agent, a restarted agent adopts them);
3. signal this host's runs whose stop was requested (``stopping``; killed after ``stop_timeout_s``), mark
   the ones whose process is gone ``crashed``, and stop any process whose run is no longer active here
   (a run declared ``lost`` while this host was cut off never trades again when the link returns);
4. declare agents silent for ``lost_after_s`` lost: their active runs become ``lost`` and raise
   ``run_crashed`` in the shared alert state. They are never restarted, by this agent or any other;
5. read the kill switch (this pushes an engage made here while the store was unreachable).

The per-host lease (an advisory lock on PostgreSQL) refuses a second agent for the same host.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from peaktrade.artifacts import s3
from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.cluster import claims
from peaktrade.desk import open_desk
from peaktrade.desk.backend import HOST_ENV
from peaktrade.desk.pgschema import RUN_CHANNEL
from peaktrade.desk.store import RUN_ACTIVE, RUN_FINAL, AlertRow, DeskStore, DeskUnavailable, RunRecord
from peaktrade.errors import BlockedError, PeakTradeError
from peaktrade.root import Root
from peaktrade.runtime.launcher import Launcher, LocalProcessLauncher
from peaktrade.runtime.orchestrator import Orchestrator


class _NoLease:
    """While the store is unreachable: no lock held; the next tick tries to take it again."""

    def alive(self) -> bool:
        return False

    def close(self) -> None:
        pass


class Agent:
    def __init__(self, root: Root, host_id: str, *, launcher: Launcher | None = None, heartbeat_s: float = 2.0,
                 lost_after_s: float = 15.0, stop_timeout_s: float = 30.0, claim_batch: int = 20,
                 clock: Clock = SYSTEM_CLOCK, log: Callable[[str], None] = print):
        self.root, self.host, self.clock, self.log = root, host_id, clock, log
        self.launcher = launcher or LocalProcessLauncher()
        self.heartbeat_s, self.lost_after_s, self.stop_timeout_s = heartbeat_s, lost_after_s, stop_timeout_s
        self.claim_batch = claim_batch
        self._stopping: dict[str, float] = {}  # run id -> when SIGTERM was sent
        self._down = False  # the store was unreachable at the last tick (said once, not every tick)
        self.launched = 0
        self._listener = None
        self._artifacts = s3.configured(root)
        self._copied: set[str] = set()
        self._copy_failed: set[str] = set()

    def _now(self) -> str:
        return utc_iso(self.clock.now())

    def run(self, stop: threading.Event) -> int:
        os.environ[HOST_ENV] = self.host  # the workers it launches know their host
        store = open_desk(self.root)
        lease = store.agent_lease(self.host)
        if lease is None:
            raise BlockedError(f"another agent already holds host {self.host!r} (its per-host lock): one agent per "
                               "host; stop the other one first (peaktrade desk status shows it)")
        self.log(f"agent {self.host}: up (pid {os.getpid()}, desk state {getattr(store, 'shown', store.backend)})")
        self._listener = self._listen(store)
        try:
            while not stop.is_set():
                lease = self._keep_lease(store, lease)
                if lease is None:
                    break
                self.tick(store)
                self._wait(store, stop)
        finally:
            try:
                store.agent_down(self.host, at=self._now())
            except DeskUnavailable:
                pass
            for closable in (self._listener, lease):
                try:
                    if closable is not None:
                        closable.close()
                except Exception:  # noqa: BLE001 - shutting down
                    pass
            self.log(f"agent {self.host}: down (its runs keep running; a restarted agent adopts them)")
        return 0

    def _keep_lease(self, store: DeskStore, lease):
        """The lease dies with its connection (a server restart, a partition): take it again, unless another
        agent for this host took it meanwhile (then this one ends: one agent per host)."""
        if lease is not None and lease.alive():
            return lease
        if lease is not None:
            lease.close()
        try:
            again = store.agent_lease(self.host)
        except DeskUnavailable:
            return _NoLease()  # unreachable: nobody else can take it either; retried next tick
        if again is None:
            self.log(f"agent {self.host}: another agent now holds this host's lock: this one ends")
        return again

    def tick(self, store: DeskStore) -> None:
        try:
            before = store.heartbeat(self.host, pid=os.getpid(), at=self._now(), note=f"{self.launched} launched")
            if self._down:
                self.log(f"agent {self.host}: desk state reachable again")
                self._down = False
            if before == "lost":
                self.log(f"agent {self.host}: this host was declared lost while it was cut off; its runs are lost "
                         "and their processes are stopped here (never resumed)")
            for rec in store.claim_runs(self.host, limit=self.claim_batch, at=self._now()):
                what = claims.launch(self.root, store, self.launcher, rec, self.clock)
                self.log(f"agent {self.host}: claimed {what}")
                self.launched += 1
            self._watch_runs(store)
            self._copy_plays(store)
            for rec in store.expire_agents(lost_after_s=self.lost_after_s, at=self._now()):
                self._raise_lost(store, rec)
            store.kill_switch()  # pushes an engage made here while the store was unreachable
        except DeskUnavailable as exc:
            if not self._down:
                self.log(f"agent {self.host}: {exc.message} (sessions fail closed; retrying)")
            self._down = True

    def _watch_runs(self, store: DeskStore) -> None:
        Orchestrator(self.root, launcher=self.launcher, clock=self.clock, host=self.host).reconcile()
        now = time.monotonic()
        mine = {r.run_id: r for r in store.list_runs() if r.host == self.host and r.pid}
        self._copy_closed(store, [r for r in mine.values() if r.status in RUN_FINAL])
        for run_id, rec in mine.items():
            handle = claims.handle_of(rec)
            if rec.status == "stopping":
                sent = self._stopping.setdefault(run_id, now)
                if sent == now:
                    self.launcher.terminate(handle)
                    self.log(f"agent {self.host}: stop requested for {run_id} (SIGTERM)")
                elif now - sent > self.stop_timeout_s and self.launcher.kill(handle):
                    store.update_run(run_id, only_if=RUN_ACTIVE, status="killed", ended_at=self._now(),
                                     status_note=f"killed after {self.stop_timeout_s:g} s without a graceful stop")
            elif rec.status not in RUN_ACTIVE and self.launcher.is_alive(handle) and run_id not in self._stopping:
                self._stopping[run_id] = now  # e.g. lost while this host was cut off: it must not trade on
                self.launcher.terminate(handle)
                self.log(f"agent {self.host}: {run_id} is {rec.status} in the desk state but its process runs here: "
                         "stopped (SIGTERM)")
        for run_id in [r for r in self._stopping if r not in mine or not self.launcher.is_alive(
                claims.handle_of(mine[r]))]:
            del self._stopping[run_id]

    def _copy_closed(self, store: DeskStore, closed: list[RunRecord]) -> None:
        """Closed runs of this host: their run logs to object storage, once (``[artifacts] url``)."""
        if self._artifacts is None or not closed:
            return
        for rec in closed:
            if rec.run_id in self._copied or store.list_artifacts(rec.run_id):
                self._copied.add(rec.run_id)
                continue
            try:
                rows = s3.upload_run(self.root, self._artifacts, store, rec.run_id, host=self.host)
            except PeakTradeError as exc:
                if rec.run_id not in self._copy_failed:
                    self.log(f"agent {self.host}: {rec.run_id}: {exc.message} (retried every tick)")
                self._copy_failed.add(rec.run_id)
                continue
            self._copied.add(rec.run_id)
            where = self._artifacts.url(self._artifacts.key("runs", rec.run_id, ""))
            self.log(f"agent {self.host}: {rec.run_id}: {len(rows)} file(s) copied to {where}/")

    def _copy_plays(self, store: DeskStore) -> None:
        """Finished plays whose folder is on this host: their journals to object storage, once."""
        if self._artifacts is None:
            return
        for play in store.list_plays(limit=50):
            done = play.outcome is not None and (self.root.plays_dir / play.play_id).is_dir()
            if not done or play.play_id in self._copied or play.play_id in self._copy_failed:
                continue
            if store.list_artifacts(play.play_id):
                self._copied.add(play.play_id)
                continue
            try:
                s3.upload_play(self.root, self._artifacts, store, play.play_id, host=self.host)
                self._copied.add(play.play_id)
            except PeakTradeError as exc:
                self._copy_failed.add(play.play_id)  # said once; retried when the agent restarts
                self.log(f"agent {self.host}: play {play.play_id}: {exc.message}")

    def _raise_lost(self, store: DeskStore, rec: RunRecord) -> None:
        now = self._now()
        msg = f"run lost: host {rec.host} stopped heartbeating; it is not restarted (look at it, then decide)"
        self.log(f"agent {self.host}: {rec.run_id} {msg}")
        store.put_alert(AlertRow(f"run_crashed|{rec.run_id}", "run_crashed", rec.run_id, "CRITICAL", "firing", msg,
                                 "", now, None))

    def _listen(self, store: DeskStore):
        connect = getattr(store, "connect", None)
        if connect is None:
            return None
        try:
            con = connect()
            con.execute(f"LISTEN {RUN_CHANNEL}")
            return con
        except (DeskUnavailable, Exception):  # noqa: BLE001 - then it only polls
            return None

    def _wait(self, store: DeskStore, stop: threading.Event) -> None:
        listener = self._listener
        if listener is None or listener.closed or listener.broken:
            stop.wait(self.heartbeat_s)
            self._listener = self._listen(store)  # the link may be back: queued runs are claimed at once again
            return
        try:
            for _ in listener.notifies(timeout=self.heartbeat_s, stop_after=1):
                pass
        except Exception:  # noqa: BLE001 - the listener broke: poll until the next start
            stop.wait(self.heartbeat_s)
