"""What the dashboard shows, read from the same functions the CLI uses (read-only, short reads).

Every reader returns plain dicts for the templates. A reader that cannot read its source says so in
its result (``error``) instead of failing the page: the banner of a desk whose store is broken must
still render, and it must show the kill switch as the order paths see it (engaged, fail closed).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
from peaktrade.desk import open_desk
from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.errors import PeakTradeError
from peaktrade.monitor.columns import parse_ts_ns
from peaktrade.monitor.views import overview
from peaktrade.policy.gate import check_live_gate
from peaktrade.policy.stages import current_stage, load_stage_policy
from peaktrade.root import Root

STALE_MINUTES_DEFAULT = 10.0  # without a no_events rule in policies/alerts.yaml
_STATUS_ROW = re.compile(r"^\|\s*Status\s*\|\s*([^|]+?)\s*\|", re.MULTILINE)
_TITLE = re.compile(r"^#\s+(.+)$", re.MULTILINE)
CLOSED = ("closed", "resolved")


def now_utc() -> datetime:
    return datetime.now(UTC)


def _error(exc: BaseException) -> str:
    return exc.message if isinstance(exc, PeakTradeError) else f"{type(exc).__name__}: {exc}"


def banner(root: Root) -> dict[str, Any]:
    ks = read_kill_switch(root)
    gate = check_live_gate(root, approvals={})
    try:
        stage: str | None = current_stage(root)
        live_enabled = load_stage_policy(root).live_enabled
    except Exception as exc:  # noqa: BLE001 - an unreadable stage policy is shown, never a 500
        stage, live_enabled = None, False
        gate_error = _error(exc)
    else:
        gate_error = ""
    alerts = firing_alerts(root)
    return {"kill_switch": ks.to_dict() | {"blocks_orders": ks.blocks_orders},
            "gate": {"allowed": gate.allowed, "missing": list(gate.missing), "live_enabled": live_enabled,
                     "error": gate_error},
            "stage": stage, "incidents": [i for i in incidents(root) if i["open"]],
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
    """``monitor overview --include-inactive`` rows, with the registry's status (crashed, lost) and
    ``stale``: an active run whose last event is older than the no_events rule allows."""
    now = now or now_utc()
    rows = overview(root, include_inactive=True, now=now)
    try:
        registry = {r.run_id: r for r in open_desk(root).list_runs()}
        error = ""
    except Exception as exc:  # noqa: BLE001
        registry, error = {}, _error(exc)
    limit_ns = int(stale_minutes(root) * 60 * 1e9)
    now_ns = int(now.timestamp() * 1e9)
    for row in rows:
        rec = registry.get(row["run_id"])
        row["status"] = rec.status if rec else ("running" if row["active"] else "ended")
        if row["status"] == "starting" and row["events"] and row["active"]:
            row["status"] = "running"  # it has logged events: it started (the registry is told later, if ever)
        row["status_note"] = rec.status_note if rec else ""
        newest = parse_ts_ns(row["last_event"]) or parse_ts_ns(row["started_at"])
        row["stale"] = bool(row["active"] and newest is not None and now_ns - newest > limit_ns)
    return {"rows": rows, "error": error, "stale_minutes": stale_minutes(root)}


def incidents(root: Root) -> list[dict[str, Any]]:
    """``reports/incidents/*.md`` with their title and the Status line of their header table."""
    out = []
    base = root.incidents_dir
    for path in sorted(base.glob("*.md"), reverse=True) if base.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:8192]
        except OSError:
            continue
        status = _STATUS_ROW.search(text)
        title = _TITLE.search(text)
        word = status.group(1).strip() if status else "unknown"
        out.append({"name": path.name, "title": title.group(1).strip() if title else path.stem,
                    "status": word, "open": word.lower() not in CLOSED})
    return out


def read_report(base: Path, name: str) -> str | None:
    """A report's Markdown by file name; None for anything that is not a plain ``*.md`` in ``base``."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.md", name or ""):
        return None
    path = base / name
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    except OSError:
        return None


def older_than(ts: str | None, now: datetime, minutes: float) -> bool:
    ns = parse_ts_ns(ts)
    return ns is not None and now - datetime.fromtimestamp(ns / 1e9, UTC) > timedelta(minutes=minutes)
