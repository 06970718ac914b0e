"""What the dashboard shows, read from the same functions the CLI uses (read-only, short reads).

Every reader returns plain dicts for the templates. A reader that cannot read its source says so in
its result (``error``) instead of failing the page: the banner of a desk whose store is broken must
still render, and it must show the kill switch as the order paths see it (engaged, fail closed).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
from peaktrade.desk import open_desk
from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.desk.store import RUN_ACTIVE
from peaktrade.errors import PeakTradeError
from peaktrade.monitor.crashed import CRASHED
from peaktrade.playbook.incidents import list_incidents
from peaktrade.policy.gate import check_live_gate
from peaktrade.policy.stages import current_stage, load_stage_policy
from peaktrade.root import Root
from peaktrade.web.runindex import index_for

STALE_MINUTES_DEFAULT = 10.0  # without a no_events rule in policies/alerts.yaml


def now_utc() -> datetime:
    return datetime.now(UTC)


def _error(exc: BaseException) -> str:
    return exc.message if isinstance(exc, PeakTradeError) else f"{type(exc).__name__}: {exc}"


POLICY_TTL_S = 5.0  # live gate, stage and alert thresholds change by policy edits: re-read every few seconds
_POLICY: dict[str, tuple[float, dict[str, Any]]] = {}


def _policy_view(root: Root) -> dict[str, Any]:
    """The live gate's halves, the stage and the stale threshold, re-read at most every POLICY_TTL_S:
    loading and validating the policy files costs more than the rest of a page. The kill switch is
    never cached (``banner`` reads it on every call)."""
    key = str(root.path)
    hit = _POLICY.get(key)
    if hit is not None and time.monotonic() - hit[0] < POLICY_TTL_S:
        return hit[1]
    gate = check_live_gate(root, approvals={})
    try:
        stage: str | None = current_stage(root)
        live_enabled, error = load_stage_policy(root).live_enabled, ""
    except Exception as exc:  # noqa: BLE001 - an unreadable stage policy is shown, never a 500
        stage, live_enabled, error = None, False, _error(exc)
    view = {"gate": {"allowed": gate.allowed, "missing": list(gate.missing), "live_enabled": live_enabled,
                     "error": error},
            "stage": stage, "stale_minutes": stale_minutes(root)}
    _POLICY[key] = (time.monotonic(), view)
    return view


def banner(root: Root) -> dict[str, Any]:
    ks = read_kill_switch(root)
    policy = _policy_view(root)
    alerts = firing_alerts(root)
    return {"kill_switch": ks.to_dict() | {"blocks_orders": ks.blocks_orders},
            "gate": policy["gate"], "stage": policy["stage"],
            "incidents": [i for i in incidents(root) if i["open"]],
            "alerts": alerts["rows"], "alerts_error": alerts["error"]}


def firing_alerts(root: Root) -> dict[str, Any]:
    return alerts(root, status="firing")


def alerts(root: Root, *, status: str | None = None, limit: int = 200) -> dict[str, Any]:
    try:
        rows = open_desk(root).list_alerts(status=status, limit=limit)
    except Exception as exc:  # noqa: BLE001
        return {"rows": [], "error": _error(exc)}
    return {"rows": [vars(r) for r in rows], "error": ""}


def stale_minutes(root: Root) -> float:
    try:
        settings = resolve_settings(load_alerts_policy(root))
    except PeakTradeError:
        return STALE_MINUTES_DEFAULT
    return settings.no_events_max_minutes or STALE_MINUTES_DEFAULT


def runs(root: Root, *, now: datetime | None = None) -> dict[str, Any]:
    """``monitor overview --include-inactive`` rows, with the registry's status (crashed, lost), the host of
    each run (None on a one-host desk; on a desk on several hosts the other hosts' runs too, see
    ``web.runindex``) and ``stale``: an active run whose last event is older than the no_events rule allows."""
    now = now or now_utc()
    try:
        registry = {r.run_id: r for r in open_desk(root).list_runs()}
        error = ""
    except Exception as exc:  # noqa: BLE001 - the runs' own files still show; meta.json decides "active"
        registry, error = {}, _error(exc)
    index = index_for(root)
    rows = index.rows(root, registry if not error else None)
    minutes = _policy_view(root)["stale_minutes"]
    limit_ns = int(minutes * 60 * 1e9)
    now_ns = int(now.timestamp() * 1e9)
    for row in rows:
        rec = registry.get(row["run_id"])
        meta_status = row.pop("meta_status")
        row["status"] = rec.status if rec else (meta_status or ("running" if row["active"] else "ended"))
        if row["status"] in RUN_ACTIVE and not row["active"]:
            # the registry still says active but the run's own record says otherwise (its process is gone:
            # crashed); the registry learns it at the next `runs status` (the dashboard writes nothing)
            row["status"] = meta_status if meta_status and meta_status not in RUN_ACTIVE else "ended"
        if row["status"] == "starting" and row["events"] and row["active"]:
            row["status"] = "running"  # it has logged events: it started (the registry is told later, if ever)
        row["status_note"] = rec.status_note if rec else ""
        # crashed and lost runs stay flagged until someone ran `peaktrade runs ack` (monitor.crashed)
        row["attention"] = row["status"] in CRASHED and not index.acknowledged(root, row["run_id"])
        newest = row.pop("newest_ns")
        # another host's active run: its events are on that host, its silence is that host's no_events alert
        row["stale"] = bool(row["active"] and row["figures"] and newest is not None and now_ns - newest > limit_ns)
    return {"rows": rows, "error": error, "stale_minutes": minutes}


def incidents(root: Root) -> list[dict[str, Any]]:
    """``peaktrade incident list``: every report with its title, severity and Status line."""
    try:
        found = list_incidents(root)
    except OSError:
        return []
    return [{"name": Path(i.path).name, "title": i.title, "status": i.status, "severity": i.severity,
             "open": i.status == "open"} for i in found]


def read_report(base: Path, name: str) -> str | None:
    """A report's Markdown by file name; None for anything that is not a plain ``*.md`` in ``base``."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.md", name or ""):
        return None
    path = base / name
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    except OSError:
        return None
