"""Runs of a desk on several hosts in the monitor (DESIGN 11): the host each run is on, and the runs whose log
is on another host, read from the desk state and, once closed, from their verified copy in object storage.

A one-host desk (SQLite, no ``[desk_state] url``) knows no hosts: every run is this host's, its host ``None``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.artifacts.s3 import configured, run_dir_anywhere
from peaktrade.desk import open_desk
from peaktrade.desk.backend import cluster_url, host_id
from peaktrade.desk.store import RunRecord
from peaktrade.errors import PeakTradeError
from peaktrade.monitor.crashed import CRASHED, read_ack
from peaktrade.monitor.runs import read_meta

if TYPE_CHECKING:
    from peaktrade.root import Root

RECORD_FIELDS = ("run_id", "mode", "strategy", "symbol", "timeframe", "profile", "status", "status_note",
                 "started_at", "ended_at", "notes")


def this_host(root: Root) -> str:
    try:
        return host_id(root) if cluster_url(root) is not None else ""
    except PeakTradeError:
        return ""


def remote_runs(root: Root, records: dict[str, RunRecord], local: set[str], *,
                include_inactive: bool) -> list[tuple[Path | None, dict[str, Any], str | None]]:
    """(folder or None, meta, error) of every run of another host to show: active ones and crashed or lost ones
    nobody acknowledged always (``runs ack`` works from any host: the acknowledgement is in the desk state), the
    others with ``include_inactive``. A closed run's figures come from its verified copy when it has one;
    ``error`` says why a copy could not be used (its figures are then not shown: fail closed)."""
    here, out = this_host(root), []
    target = configured(root)
    for rec in records.values():
        if rec.run_id in local or not rec.host or rec.host == here:
            continue
        if not (include_inactive or rec.active or (rec.status in CRASHED and read_ack(None, root, rec.run_id) is None)):
            continue
        meta: dict[str, Any] = {k: getattr(rec, k) for k in RECORD_FIELDS}
        path, error = None, None
        if not rec.active and target is not None:
            try:
                if open_desk(root).list_artifacts(rec.run_id):
                    path = run_dir_anywhere(root, None, rec.run_id)
                    meta = {**read_meta(path), "status": rec.status, "status_note": rec.status_note}
            except PeakTradeError as exc:
                path, error = None, exc.message
        out.append((path, meta, error))
    return out
