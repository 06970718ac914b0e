"""Crashed and lost runs stay visible until someone acknowledged them.

A run whose process died without a clean shutdown (``crashed``: the runtime found its process gone)
or whose host stopped answering (``lost``) needs a person to look at it: the monitor overview shows
it by default, the ``run_crashed`` alert fires, the health check fails. ``peaktrade runs ack`` records
who looked and why it is fine in the run's own folder (``live_runs/<run_id>/ack.json``), beside its
meta.json, so the acknowledgement travels with the run log whatever registry the desk uses. On a desk on
several hosts it is also kept in the shared desk state (meta key ``ack/<run_id>``), so a run lost with its
host can be acknowledged from any other host, and the shared ``run_crashed`` alert resolves everywhere.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.desk import open_desk
from peaktrade.desk.backend import cluster_url
from peaktrade.errors import PeakTradeError, UsageError
from peaktrade.fsutil import atomic_write_text
from peaktrade.monitor.runs import RUN_ID, read_meta, run_dir, run_dirs

if TYPE_CHECKING:
    from peaktrade.root import Root

CRASHED = ("crashed", "lost")
# runs that ended abnormally: an operator acknowledges them once, and their silence stops alerting
ACKABLE = (*CRASHED, "failed", "killed")
ACK_FILE = "ack.json"
ACK_KEY = "ack/{}"  # the desk state's copy on a desk on several hosts


def read_ack(path: Path | None, root: Root | None = None, run_id: str | None = None) -> dict[str, Any] | None:
    """The acknowledgement of the run in ``path`` (its ack.json), else, given ``root`` on a desk on several hosts,
    the one in the desk state; None when there is none (an unreadable file or desk is no acknowledgement)."""
    if path is not None:
        try:
            data = json.loads((path / ACK_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and data.get("by"):
            return data
    rid = run_id or (path.name if path is not None else None)
    if root is None or not rid:
        return None
    try:
        if cluster_url(root) is None:
            return None
        raw = open_desk(root).meta(ACK_KEY.format(rid))
        data = json.loads(raw) if raw else None
    except (PeakTradeError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("by") else None


def needs_attention(meta: dict[str, Any], path: Path | None, root: Root | None = None) -> bool:
    rid = meta.get("run_id") or (path.name if path is not None else None)
    return meta.get("status") in CRASHED and read_ack(path, root, rid) is None


def unacknowledged(root: Root) -> list[dict[str, Any]]:
    """meta.json of every crashed or lost run nobody acknowledged yet, newest first."""
    found = []
    for d in run_dirs(root):
        meta = read_meta(d)
        if needs_attention(meta, d, root):
            found.append(meta)
    return sorted(found, key=lambda m: str(m.get("started_at") or ""), reverse=True)


def _status(root: Root, run_id: str) -> tuple[Path | None, str | None]:
    """(the run's folder on this host or None, its status): from its meta.json here, else from the desk state
    (a run lost with its host has no folder here, and perhaps no copy in object storage)."""
    if not RUN_ID.match(run_id or ""):
        raise UsageError(f"invalid run id {run_id!r}")
    from peaktrade.runtime.runlog import runs_dir

    local = runs_dir(root) / run_id
    if (local / "meta.json").is_file():
        return local, read_meta(local).get("status")
    rec = open_desk(root).get_run(run_id) if cluster_url(root) is not None else None
    if rec is None:
        return None, read_meta(run_dir(root, run_id)).get("status")  # the monitor's error for an unknown id
    return None, rec.status


def acknowledge(root: Root, run_id: str, *, by: str, note: str, at: str) -> dict[str, Any]:
    """Record that ``by`` looked at the crashed or lost run ``run_id`` (a usage error for any other run)."""
    path, status = _status(root, run_id)
    if status not in ACKABLE:
        raise UsageError(f"run {run_id} is {status or 'unknown'}, not crashed, lost, failed or killed: "
                         f"nothing to acknowledge")
    if not note.strip():
        raise UsageError("--note: say what you found (why the crash needs nothing more, or the incident id)")
    ack = {"run_id": run_id, "status": status, "by": by, "at": at, "note": " ".join(note.split())}
    if cluster_url(root) is not None:  # shared first: a host that is gone keeps no file anyone could read
        store = open_desk(root)
        store.set_meta(ACK_KEY.format(run_id), json.dumps(ack))
        alert = store.alert(f"run_crashed|{run_id}")
        if alert is not None and alert.status == "firing":
            store.put_alert(replace(alert, status="resolved", resolved_at=at))
    if path is not None:
        atomic_write_text(path / ACK_FILE, json.dumps(ack, indent=2) + "\n")
    return ack


def describe(meta: dict[str, Any]) -> str:
    """One line for the operator: what happened and how to acknowledge it."""
    rid = meta.get("run_id")
    why = meta.get("status_note") or "its process ended without a clean shutdown"
    when = meta.get("detected_at") or meta.get("ended_at") or "?"
    return (f"run {rid} {str(meta.get('status')).upper()} ({why}; detected {when}); "
            f"acknowledge: peaktrade runs ack --run-id {rid} --note WHY")
