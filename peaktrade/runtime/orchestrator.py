"""The orchestrator (seed 10a): start runs as their own processes, watch them, stop them.

Live runs start only with the live_activation request a play bound (``approval_id`` + ``play_id``); the run
re-verifies it in ``prepare_run`` and again in the worker, and every order passes the gateway's live gate.
The registry and the launcher are interfaces; this module never touches SQLite or ``subprocess``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.cluster import claims
from peaktrade.desk import open_desk
from peaktrade.desk.backend import cluster_url, host_id
from peaktrade.errors import BlockedError, UsageError
from peaktrade.runtime import runlog
from peaktrade.runtime.launcher import Launcher, LocalProcessLauncher, ProcessHandle
from peaktrade.runtime.registry import ACTIVE, RegistryUnavailable, RunRecord, RunRegistry, open_registry
from peaktrade.runtime.runner import LIVE_REFUSED, prepare_run

if TYPE_CHECKING:
    from peaktrade.root import Root

STOP_TIMEOUT_S = 30.0
START_GRACE_S = 60.0  # a run still "starting" without a process after this long never started
MODE_NEEDS = {"shadow": "paper", "testnet": "testnet", "live": "live"}


@dataclass
class StopResult:
    run_id: str
    outcome: str  # stopped | completed | killed | crashed | not running | stop requested
    seconds: float = 0.0
    host: str = ""  # a desk on several hosts: where the run was (its agent signalled it)


@dataclass
class KillReport:
    """What ``kill_all`` did. ``registry_error`` is set when the registry could not be used and the workers
    were found by their command lines instead; ``strays`` are workers of this root the registry did not list."""

    results: list[StopResult] = field(default_factory=list)
    registry_error: str | None = None
    registry_details: list[str] = field(default_factory=list)  # what to do about it
    strays: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "run_id (pid N): why" for processes that could not be killed


def check_mode(root: Root, mode: str) -> None:
    """The mode rule of every session (seed 10a.7): shadow needs environment.mode = "paper", live needs "live",
    testnet needs "testnet" (exit 3, a guard)."""
    from peaktrade.config import load_config

    if mode not in MODE_NEEDS:
        raise UsageError(f"unknown mode {mode!r} (shadow, testnet or live)")
    config = load_config(root)
    if config.mode != MODE_NEEDS[mode]:
        raise BlockedError(f"{mode} runs require environment.mode = \"{MODE_NEEDS[mode]}\" in "
                           f"config/config.toml (it is \"{config.mode}\")")


class Orchestrator:
    def __init__(self, root: Root, *, registry: RunRegistry | None = None, launcher: Launcher | None = None,
                 clock: Clock = SYSTEM_CLOCK, host: str | None = None):
        self.root = root
        self._registry = registry  # opened on first use: the emergency kill must work without it
        self.launcher = launcher or LocalProcessLauncher()
        self.clock = clock
        self._host = host

    # --- a desk on several hosts (DESIGN 11): runs go through the agents; only this host's are signalled ---
    @property
    def cluster(self) -> bool:
        return cluster_url(self.root) is not None

    @property
    def host(self) -> str:
        if self._host is None:
            self._host = host_id(self.root)
        return self._host

    def _here(self, rec: RunRecord) -> bool:
        """A run whose process is on this host ("" = a run of an embedded, one-host desk)."""
        return not rec.host or rec.host == self.host

    @property
    def registry(self) -> RunRegistry:
        if self._registry is None:
            self._registry = open_registry(self.root)
        return self._registry

    # --- start ---

    def start(self, mode: str, *, profile: str = "standard", strategy: str | None = None,
              symbol: str | None = None, timeframe: str | None = None, steps: int | None = None, notes: str = "",
              skip_live_risk: bool = False, operator: str = "", check: bool = True, play_id: str = "",
              step_key: str = "", approval_id: str = "", host: str | None = None) -> RunRecord:
        """Start a run as its own process. Live needs the live_activation request bound to the starting play
        (``approval_id`` + ``play_id``): ``prepare_run`` re-verifies it; without one live is refused.
        On a desk on several hosts the run is queued for the agents (``host``: pinned to that host)."""
        if mode == "live" and not (approval_id and play_id):
            raise BlockedError(LIVE_REFUSED)
        if host and not self.cluster:
            raise UsageError("--host needs a desk on several hosts ([desk_state] url in config/config.toml)")
        if check:  # the readiness check itself is the caller's (a use case, ops.readiness): here the mode rule
            check_mode(self.root, mode)
        rec = prepare_run(self.root, mode=mode, profile=profile, strategy=strategy, symbol=symbol,
                          timeframe=timeframe, steps=steps, notes=notes, skip_live_risk=skip_live_risk,
                          operator=operator, clock=self.clock, play_id=play_id, step_key=step_key,
                          approval_id=approval_id)
        if self.cluster:
            queued = claims.queue(self.root, open_desk(self.root), rec, host or "")
            self._log(f"Run {rec.run_id} queued for {('host ' + host) if host else 'any host'}: {mode} {rec.strategy} "
                      f"{rec.symbol} {rec.timeframe}, profile {profile}" + (f", by {operator}" if operator else ""))
            return queued
        run_dir = runlog.run_dir(self.root, rec.run_id)
        args = ["--run-id", rec.run_id, "--root", str(self.root.path), "--mode", mode, "--profile", profile]
        try:
            handle = self.launcher.launch(rec.run_id, args, cwd=self.root.path, output=run_dir / "worker.out")
        except OSError as exc:
            self._finish(rec.run_id, "failed", f"could not start the process: {exc}")
            raise BlockedError(f"could not start run {rec.run_id}: {exc}") from None
        # the worker records itself too; whichever writes first, both write the same values
        self.registry.update(rec.run_id, only_if=ACTIVE, pid=handle.pid, pid_start=handle.start_time)
        self._log(f"Run {rec.run_id} started: {mode} {rec.strategy} {rec.symbol} {rec.timeframe}, profile "
                  f"{profile}, pid {handle.pid}" + (f", by {operator}" if operator else ""))
        return self.registry.get(rec.run_id) or rec

    def _log(self, message: str, level: str = "INFO") -> None:
        """One line in logs/peaktrade.log, beside the sessions' own lines (`tail -f logs/*.log`)."""
        from peaktrade.fsutil import append_line
        from peaktrade.redact import redact_text

        stamp = self.clock.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        try:
            append_line(self.root.logs_dir / "peaktrade.log", f"{stamp} {level} [orchestrator] {redact_text(message)}",
                        fsync=False)
        except OSError:
            pass  # the log line is a courtesy; the registry and meta.json are the record

    # --- watch ---
    def reconcile(self) -> list[str]:
        """Mark active runs whose process is gone as crashed; returns their ids."""
        crashed = []
        now = self.clock.now()
        for rec in self.registry.list(active_only=True):
            if not self._here(rec) or (rec.pid is None and self.cluster):
                continue  # another host's agent watches its runs; a queued run waits for an agent
            if rec.pid is None:
                age = (now - datetime.fromisoformat(rec.created_at.replace("Z", "+00:00"))).total_seconds()
                if age < START_GRACE_S:
                    continue
                note = "the process never started"
            elif self.launcher.is_alive(ProcessHandle(rec.pid, rec.pid_start)):
                continue
            else:
                note = f"process {rec.pid} ended without a clean shutdown"
            if self._finish(rec.run_id, "crashed", note):
                crashed.append(rec.run_id)
        return crashed

    def _finish(self, run_id: str, status: str, note: str) -> bool:
        ended = utc_iso(self.clock.now())
        if not self.registry.update(run_id, only_if=ACTIVE, status=status, status_note=note, ended_at=ended):
            return False
        self._log(f"Run {run_id} {status}: {note}", "WARNING")
        run_dir = runlog.run_dir(self.root, run_id)
        try:
            meta = runlog.read_meta(run_dir)
            if meta.get("ended_at") is None or meta.get("status") in (*ACTIVE, "crashed"):
                changes = {"status": status, "status_note": note}
                if status == "killed":
                    changes["ended_at"] = ended
                else:
                    changes["detected_at"] = ended
                runlog.update_meta(run_dir, **changes)
        except (OSError, ValueError):
            pass  # the registry is the record; a missing meta.json is shown by `runs status`
        return True

    def status(self, run_id: str | None = None, *, limit: int | None = None) -> list[RunRecord]:
        self.reconcile()
        if run_id is not None:
            rec = self.registry.get(run_id)
            if rec is None:
                raise UsageError(f"unknown run id {run_id!r} (see 'peaktrade runs status')")
            return [rec]
        return self.registry.list(limit=limit)

    def wait(self, run_id: str, timeout_s: float, poll_s: float = 0.1) -> RunRecord:
        """Wait until the run is no longer active (or ``timeout_s`` passed); returns its record."""
        deadline = self.clock.monotonic() + timeout_s
        while True:
            self.reconcile()
            rec = self.registry.get(run_id)
            if rec is None or not rec.active or self.clock.monotonic() >= deadline:
                return rec  # type: ignore[return-value]
            self.clock.sleep(poll_s)

    # --- stop ---
    def stop(self, run_id: str, *, timeout_s: float = STOP_TIMEOUT_S) -> StopResult:
        return self.stop_many([run_id], timeout_s=timeout_s)[0]

    def stop_all(self, *, timeout_s: float = STOP_TIMEOUT_S, rounds: int = 5) -> list[StopResult]:
        """Stop every active run, including runs registered while the stop was under way: after each round
        the registry is read again, until a round finds no run it has not stopped yet (a start racing the
        stop never slips through)."""
        results: list[StopResult] = []
        seen: set[str] = set()
        for _ in range(rounds):
            self.reconcile()
            new = [r.run_id for r in self.registry.list(active_only=True) if r.run_id not in seen]
            if not new:
                break
            seen.update(new)
            results += self.stop_many(new, timeout_s=timeout_s)
        return results

    def kill_all(self, *, reason: str = "force-killed (emergency shutdown)") -> KillReport:
        """SIGKILL every active run at once (runbook 5.3); each is marked killed.

        Then every worker process of this root that is still alive — one the registry does not list, or
        all of them when the registry cannot be opened or read — is found by its command line
        (``--run-id <id> --root <this root>``) and killed too: the emergency path never depends on the registry.
        """
        report = KillReport()
        handled: set[int] = set()
        known: set[str] = set()
        try:
            self.reconcile()
            for rec in self.registry.list(active_only=True):
                known.add(rec.run_id)
                if not self._here(rec):  # its agent signals it: a stop request, never a local pid
                    self.registry.update(rec.run_id, only_if=ACTIVE, status="stopping")
                    report.results.append(StopResult(rec.run_id, "stop requested", host=rec.host))
                    continue
                if rec.pid:
                    handled.add(rec.pid)
                    try:
                        self.launcher.kill(ProcessHandle(rec.pid, rec.pid_start))
                    except OSError as exc:  # e.g. another user's process: say so, never hide it
                        report.failed.append(f"{rec.run_id} (pid {rec.pid}): {exc.strerror or exc}")
                        continue
                self._finish(rec.run_id, "killed", reason)
                report.results.append(StopResult(rec.run_id, "killed"))
        except RegistryUnavailable as exc:
            report.registry_error = exc.message
            report.registry_details = list(exc.details[:1])
            self._log(f"Emergency kill: the run registry is unusable ({exc.message}); finding this root's workers "
                      f"by their command lines", "WARNING")
        for run_id, handle in self.launcher.find_workers(self.root.path):
            if handle.pid in handled:
                continue
            try:
                killed = self.launcher.kill(handle)
            except OSError as exc:  # e.g. another user's process: say so, never hide it
                report.failed.append(f"{run_id} (pid {handle.pid}): {exc.strerror or exc}")
                continue
            if not killed or run_id in known:
                continue  # ended meanwhile, or a run still starting that was marked killed above
            note = reason + (" (found by its command line: registry unusable)" if report.registry_error
                             else " (found by its command line: not in the registry)")
            self._mark_killed_without_registry(run_id, note)
            if report.registry_error is None:
                report.strays.append(run_id)
            report.results.append(StopResult(run_id, "killed"))
        return report

    def _mark_killed_without_registry(self, run_id: str, note: str) -> None:
        """The run's own meta.json says killed (the registry, if any, is updated by ``_finish``)."""
        if self._registry is not None:
            try:
                if self._finish(run_id, "killed", note):
                    return
            except RegistryUnavailable:
                pass
        self._log(f"Run {run_id} killed: {note}", "WARNING")
        run_dir = runlog.run_dir(self.root, run_id)
        try:
            meta = runlog.read_meta(run_dir)
            if meta.get("ended_at") is None or meta.get("status") in ACTIVE:
                runlog.update_meta(run_dir, status="killed", status_note=note, ended_at=utc_iso(self.clock.now()))
        except (OSError, ValueError):
            pass  # no meta.json: the kill itself is what matters here

    def stop_many(self, run_ids: list[str], *, timeout_s: float = STOP_TIMEOUT_S) -> list[StopResult]:
        """SIGTERM all of them first, then wait for all in parallel; kill what outlives ``timeout_s``."""
        t0 = self.clock.monotonic()
        waiting: dict[str, ProcessHandle] = {}
        results: dict[str, StopResult] = {}
        remote: dict[str, str] = {}  # runs of other hosts (or not yet claimed) -> host: watched in the desk state
        for run_id in run_ids:
            rec = self.registry.get(run_id)
            if rec is None:
                raise UsageError(f"unknown run id {run_id!r} (see 'peaktrade runs status')")
            if not rec.active:
                results[run_id] = StopResult(run_id, "not running")
                continue
            # Exactly one of these transitions wins against the worker's own starting -> running:
            # a running worker has its SIGTERM handler and gets the signal; a worker still starting
            # is not signalled (it could die of it) but finds "stopping" and ends gracefully at once.
            if not self._here(rec) or (self.cluster and not rec.pid):  # its agent signals it
                self.registry.update(run_id, only_if=("running", "starting"), status="stopping")
                self._log(f"Run {run_id}: stop requested from the agent of host {rec.host or '(not yet claimed)'}")
                remote[run_id] = rec.host
                waiting[run_id] = ProcessHandle(0, None)
                continue
            if self.registry.update(run_id, only_if=("running",), status="stopping"):
                self._log(f"Run {run_id}: stop requested (SIGTERM)")
                rec = self.registry.get(run_id) or rec
                self.launcher.terminate(ProcessHandle(rec.pid or 0, rec.pid_start))
            else:
                self.registry.update(run_id, only_if=("starting",), status="stopping")
                rec = self.registry.get(run_id) or rec
            waiting[run_id] = ProcessHandle(rec.pid or 0, rec.pid_start)
        while waiting:
            for run_id, handle in list(waiting.items()):
                if run_id in remote:
                    rec = self.registry.get(run_id)
                    if rec is not None and rec.active:
                        continue
                elif not handle.pid:  # still being launched by another CLI: watch it once it is recorded
                    rec = self.registry.get(run_id)
                    if rec is not None and rec.active and rec.pid:
                        waiting[run_id] = ProcessHandle(rec.pid, rec.pid_start)
                    if rec is not None and rec.active:
                        continue
                elif self.launcher.is_alive(handle):
                    continue
                del waiting[run_id]
                self.reconcile()
                final = self.registry.get(run_id)
                results[run_id] = StopResult(run_id, final.status if final else "crashed",
                                             self.clock.monotonic() - t0, final.host if final else "")
            if not waiting:
                break
            if self.clock.monotonic() - t0 >= timeout_s:
                for run_id, handle in waiting.items():
                    if run_id in remote:  # its agent kills it after its own timeout
                        results[run_id] = StopResult(run_id, "stop requested", self.clock.monotonic() - t0,
                                                     remote[run_id])
                        continue
                    if handle.pid:
                        self.launcher.kill(handle)
                    self._finish(run_id, "killed", f"killed after {timeout_s:g} s without a graceful stop")
                    results[run_id] = StopResult(run_id, "killed", self.clock.monotonic() - t0)
                break
            self.clock.sleep(0.05)
        return [results[r] for r in run_ids]
