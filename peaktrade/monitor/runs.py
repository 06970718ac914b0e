"""Which runs exist, their metadata, and whether they are active.

The run-log reader and the run registry belong to the runtime (``peaktrade.runtime.runlog``,
``peaktrade.runtime.registry``); they are imported lazily. When the registry is not importable
(or cannot answer), a run is active iff its ``meta.json`` has no ``ended_at`` — the runtime
writes ``ended_at`` on every orderly stop.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError

if TYPE_CHECKING:
    from peaktrade.root import Root

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def run_dirs(root: Root) -> list[Path]:
    try:
        from peaktrade.runtime.runlog import list_run_dirs
    except ImportError:
        list_run_dirs = None
    if list_run_dirs is not None:
        try:
            return list(list_run_dirs(root))
        except Exception:  # noqa: BLE001 - a half-landed runtime must not take the monitor down
            pass
    base = root.live_runs_dir
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "meta.json").is_file())


def run_dir(root: Root, run_id: str) -> Path:
    """The directory of ``run_id``; an unknown or malformed id is a usage error."""
    if not RUN_ID.match(run_id or ""):
        raise UsageError(f"invalid run id {run_id!r}")
    path = root.live_runs_dir / run_id
    if not path.is_dir():
        known = ", ".join(p.name for p in run_dirs(root)[-5:]) or "none"
        raise UsageError(f"unknown run id {run_id!r} (no {root.rel(path)}/; recent runs: {known})")
    return path


def read_meta(path: Path) -> dict[str, Any]:
    """``meta.json`` of a run dir; a missing or unreadable file yields ``{"run_id": <dir name>}``."""
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    meta.setdefault("run_id", path.name)
    return meta


def active_run_ids(root: Root) -> set[str] | None:
    """Run ids the runtime registry knows as running, or None if the registry is unavailable."""
    try:
        from peaktrade.runtime import registry as reg
    except ImportError:
        return None
    try:
        if hasattr(reg, "RunRegistry"):
            rows = reg.RunRegistry(root).list()
        elif hasattr(reg, "list_runs"):
            rows = reg.list_runs(root)
        else:
            return None
    except Exception:  # noqa: BLE001 - fall back to meta.json
        return None
    active: set[str] = set()
    for row in rows:
        get = row.get if isinstance(row, dict) else lambda k, r=row: getattr(r, k, None)
        if str(get("status") or get("state") or "").lower() in ("running", "active", "starting", "stopping"):
            active.add(str(get("run_id")))
    return active


def is_active(meta: dict[str, Any], registry_active: set[str] | None) -> bool:
    if registry_active is not None:
        return meta.get("run_id") in registry_active
    return not meta.get("ended_at")
