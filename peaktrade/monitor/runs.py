"""Which runs exist, their metadata, and whether they are active.

The run-log reader and the run registry belong to the runtime (``peaktrade.runtime.runlog``,
``peaktrade.runtime.registry``); they are imported lazily. When the registry is not importable
(or does not know the run), ``meta.json`` decides: its ``status``, else ``ended_at`` absent =
active (the runtime writes ``ended_at`` on every orderly stop).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.artifacts.s3 import run_dir_anywhere
from peaktrade.desk.backend import cluster_url
from peaktrade.errors import PeakTradeError, UsageError
from peaktrade.runtime.registry import open_registry

if TYPE_CHECKING:
    from peaktrade.desk.store import RunRecord
    from peaktrade.root import Root

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ACTIVE_STATUSES = ("starting", "running", "stopping")


def run_dirs(root: Root) -> list[Path]:
    from peaktrade.runtime.runlog import list_run_dirs

    try:
        return list(list_run_dirs(root))
    except OSError:
        pass
    base = root.live_runs_dir
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "meta.json").is_file())


def _runs_base(root: Root) -> Path:
    from peaktrade.runtime.runlog import runs_dir

    return runs_dir(root)


def run_dir(root: Root, run_id: str) -> Path:
    """The directory of ``run_id``: this host's, else (a run of another host of the desk) its copy from object
    storage verified against the desk state (``artifacts.s3.run_dir_anywhere``: a copy that cannot be had or
    differs from its recorded hash is an error, never a silent read); an unknown or malformed id is a usage
    error."""
    if not RUN_ID.match(run_id or ""):
        raise UsageError(f"invalid run id {run_id!r}")
    path = run_dir_anywhere(root, None, run_id, local=_runs_base(root) / run_id)
    if not path.is_dir():
        known = ", ".join(p.name for p in run_dirs(root)[-5:]) or "none"
        raise UsageError(f"unknown run id {run_id!r} (no {root.rel(path)}/; recent runs: {known})")
    return path


def read_meta(path: Path) -> dict[str, Any]:
    """``meta.json`` of a run dir (the runtime's reader marks a dead process ``crashed``);
    a missing or unreadable file yields ``{"run_id": <dir name>}``."""
    meta: Any = None
    from peaktrade.runtime.runlog import read_meta as runtime_read_meta

    try:
        meta = runtime_read_meta(path)
    except Exception:  # noqa: BLE001 - unreadable meta: show the run anyway
        meta = {}
    if meta is None:
        try:
            meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
    if not isinstance(meta, dict):
        meta = {}
    meta.setdefault("run_id", path.name)
    return meta


def desk_runs(root: Root) -> dict[str, RunRecord] | None:
    """run id -> its record in the runtime's registry (the desk state); None when the registry is unavailable
    (then meta.json decides) or, on a one-host desk, not created yet (reading must not create it)."""
    try:
        if cluster_url(root) is None and not (root.var_dir / "desk.sqlite").is_file():
            return None
        return {rec.run_id: rec for rec in open_registry(root).list()}
    except PeakTradeError:  # an unreadable desk state: fall back to meta.json
        return None


def active_run_ids(root: Root) -> dict[str, bool] | None:
    """run id -> active, from the runtime's registry; None when the registry is unavailable."""
    records = desk_runs(root)
    return None if records is None else {run_id: bool(rec.active) for run_id, rec in records.items()}


def is_active(meta: dict[str, Any], registry: dict[str, bool] | None) -> bool:
    """Registry first; a process found dead by the runtime (``crashed``) is never active;
    runs the registry does not know go by meta.json (``status``, else ``ended_at`` absent)."""
    status = meta.get("status")
    if status == "crashed":
        return False
    if registry is not None and meta.get("run_id") in registry:
        return registry[meta["run_id"]]
    if status:
        return status in ACTIVE_STATUSES
    return not meta.get("ended_at")
