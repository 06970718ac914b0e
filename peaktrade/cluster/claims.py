"""Runs handed to the agents: queued by the orchestrator, claimed and launched by one agent each.

A run's ``meta.json`` is written on the host that asked for it; it is kept in the desk state too
(``run_meta:<run id>``), so the agent that claims the run on another host writes the same one there.
"""

from __future__ import annotations

import json
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.desk.store import RUN_ACTIVE, DeskStore, DeskUnavailable, RunRecord
from peaktrade.errors import PeakTradeError
from peaktrade.root import Root
from peaktrade.runtime import runlog
from peaktrade.runtime.launcher import Launcher, ProcessHandle

META_KEY = "run_meta:{}"


def queue(root: Root, store: DeskStore, rec: RunRecord, host: str) -> RunRecord:
    """Hand a prepared run (meta.json written, row ``starting``) to the agents; ``host`` "" = any host."""
    meta = runlog.read_meta(runlog.run_dir(root, rec.run_id))
    store.set_meta(META_KEY.format(rec.run_id), json.dumps(meta, default=str))
    store.queue_run(rec.run_id, host=host)
    return store.get_run(rec.run_id) or rec


def materialize(root: Root, store: DeskStore, rec: RunRecord) -> None:
    """The run's folder and meta.json on this host (from the desk state when it was asked for elsewhere)."""
    run_dir = runlog.run_dir(root, rec.run_id)
    if (run_dir / runlog.META_FILE).is_file():
        return
    raw = store.meta(META_KEY.format(rec.run_id))
    meta: dict[str, Any] = json.loads(raw) if raw else {
        "run_id": rec.run_id, "mode": rec.mode, "strategy": rec.strategy, "symbol": rec.symbol,
        "timeframe": rec.timeframe, "profile": rec.profile, "status": "starting", "created_at": rec.created_at}
    runlog.write_meta(run_dir, meta)


def launch(root: Root, store: DeskStore, launcher: Launcher, rec: RunRecord, clock: Clock = SYSTEM_CLOCK) -> str:
    """Start one claimed run with the local launcher; returns what happened (one line)."""
    if rec.status == "stopping":  # stopped while it waited for an agent: it never starts
        store.update_run(rec.run_id, only_if=("stopping",), status="stopped", ended_at=utc_iso(clock.now()),
                         status_note="stopped before an agent started it")
        return f"{rec.run_id}: stopped before it started"
    try:
        materialize(root, store, rec)
        run_dir = runlog.run_dir(root, rec.run_id)
        args = ["--run-id", rec.run_id, "--root", str(root.path), "--mode", rec.mode, "--profile", rec.profile]
        handle = launcher.launch(rec.run_id, args, cwd=root.path, output=run_dir / "worker.out")
    except DeskUnavailable:
        raise
    except (OSError, ValueError, PeakTradeError) as exc:
        store.update_run(rec.run_id, only_if=RUN_ACTIVE, status="failed", ended_at=utc_iso(clock.now()),
                         status_note=f"the agent could not start the process: {exc}")
        return f"{rec.run_id}: failed to start ({exc})"
    store.update_run(rec.run_id, only_if=RUN_ACTIVE, pid=handle.pid, pid_start=handle.start_time)
    return f"{rec.run_id}: started, pid {handle.pid}"


def handle_of(rec: RunRecord) -> ProcessHandle:
    return ProcessHandle(rec.pid or 0, rec.pid_start)
