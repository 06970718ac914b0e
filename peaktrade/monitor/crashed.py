"""Crashed and lost runs stay visible until someone acknowledged them.

A run whose process died without a clean shutdown (``crashed``: the runtime found its process gone)
or whose host stopped answering (``lost``) needs a person to look at it: the monitor overview shows
it by default, the ``run_crashed`` alert fires, the health check fails. ``peaktrade runs ack`` records
who looked and why it is fine in the run's own folder (``live_runs/<run_id>/ack.json``), beside its
meta.json, so the acknowledgement travels with the run log whatever registry the desk uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError
from peaktrade.fsutil import atomic_write_text
from peaktrade.monitor.runs import read_meta, run_dir, run_dirs

if TYPE_CHECKING:
    from peaktrade.root import Root

CRASHED = ("crashed", "lost")
# runs that ended abnormally: an operator acknowledges them once, and their silence stops alerting
ACKABLE = (*CRASHED, "failed", "killed")
ACK_FILE = "ack.json"


def read_ack(path: Path) -> dict[str, Any] | None:
    """The acknowledgement of the run in ``path``, or None (an unreadable file is no acknowledgement)."""
    try:
        data = json.loads((path / ACK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("by") else None


def needs_attention(meta: dict[str, Any], path: Path) -> bool:
    return meta.get("status") in CRASHED and read_ack(path) is None


def unacknowledged(root: Root) -> list[dict[str, Any]]:
    """meta.json of every crashed or lost run nobody acknowledged yet, newest first."""
    found = []
    for d in run_dirs(root):
        meta = read_meta(d)
        if needs_attention(meta, d):
            found.append(meta)
    return sorted(found, key=lambda m: str(m.get("started_at") or ""), reverse=True)


def acknowledge(root: Root, run_id: str, *, by: str, note: str, at: str) -> dict[str, Any]:
    """Record that ``by`` looked at the crashed or lost run ``run_id`` (a usage error for any other run)."""
    path = run_dir(root, run_id)
    meta = read_meta(path)
    if meta.get("status") not in ACKABLE:
        raise UsageError(f"run {run_id} is {meta.get('status') or 'unknown'}, not crashed, lost, failed or killed: "
                         f"nothing to acknowledge")
    if not note.strip():
        raise UsageError("--note: say what you found (why the crash needs nothing more, or the incident id)")
    ack = {"run_id": run_id, "status": meta.get("status"), "by": by, "at": at, "note": " ".join(note.split())}
    atomic_write_text(path / ACK_FILE, json.dumps(ack, indent=2) + "\n")
    return ack


def describe(meta: dict[str, Any]) -> str:
    """One line for the operator: what happened and how to acknowledge it."""
    rid = meta.get("run_id")
    why = meta.get("status_note") or "its process ended without a clean shutdown"
    when = meta.get("detected_at") or meta.get("ended_at") or "?"
    return (f"run {rid} {str(meta.get('status')).upper()} ({why}; detected {when}); "
            f"acknowledge: peaktrade runs ack --run-id {rid} --note WHY")
