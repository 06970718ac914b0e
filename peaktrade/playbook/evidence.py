"""What a step found, as a bounded excerpt, and the facts an incident report is prefilled with.

Read from journal records only (like every reporter): the console line under a step's status, the
checklist's Evidence section and the incident report all show the same excerpt.
"""

from __future__ import annotations

from typing import Any

MAX_LINES = 12  # under a status line and in the checklist: enough for a table or a few matched lines
MAX_CHARS = 240  # per line
TIMELINE_ROWS = 40
# data keys of the actions that stop or pause trading (processes.stop, runs.stop, runs.stop_all,
# killswitch.engage: its status has engaged_since): the first such step that succeeded is the timeline's "paused"
_PAUSING_KEYS = ("signal", "run", "runs", "engaged_since")


def excerpt(text: str | None, max_lines: int = MAX_LINES) -> list[str]:
    """The first ``max_lines`` non-empty lines of ``text``, each clipped; the rest counted."""
    lines = [ln.rstrip() for ln in (text or "").splitlines() if ln.strip() and ln.strip() != "[...]"]
    shown = [ln if len(ln) <= MAX_CHARS else ln[: MAX_CHARS - 3] + "..." for ln in lines[:max_lines]]
    if len(lines) > max_lines:
        shown.append(f"... {len(lines) - max_lines} more line(s) in the journal")
    return shown


def evidence_blocks(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """[{step, title, status, lines}] for every finished step that produced output."""
    out = []
    for s in steps:
        lines = excerpt(s.get("output"))
        if lines:
            out.append({"step": s["step"], "title": s.get("title"), "status": s.get("status"), "lines": lines})
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)] if isinstance(value, list) else []


def incident_facts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Reason, affected runs, orders cancelled, positions closed and the journal's timeline of a play."""
    started = next((r for r in records if r.get("type") == "play_started"), {})
    finished = [r for r in records if r.get("type") == "step_finished"]
    run_ids: list[str] = []
    pids: list[int] = []  # processes of the desk no registry knew (processes.stop)
    cancelled = closed = 0
    paused = ""
    for rec in finished:
        data = rec.get("data") or {}
        for key in ("run_id", "run_ids"):
            run_ids += _strings(data.get(key))
        if isinstance(data.get("run"), dict):
            run_ids += _strings(data["run"].get("run_id"))
        pids += [p for p in data.get("signalled") or [] if isinstance(p, int) and p not in pids]
        if isinstance(data.get("cancelled"), int):
            cancelled += data["cancelled"]
        if isinstance(data.get("orders"), list) and "account" in data:  # orders.liquidate
            closed += sum(1 for o in data["orders"] if isinstance(o, dict) and o.get("status") == "filled")
        for key in ("positions_closed", "closed"):
            if isinstance(data.get(key), int):
                closed += data[key]
            elif isinstance(data.get(key), list):
                closed += len(data[key])
        if not paused and rec.get("status") == "succeeded" and any(k in data for k in _PAUSING_KEYS):
            paused = rec.get("ts", "")
    failed = [r for r in finished if r.get("status") in ("failed", "errored", "blocked")]
    params = started.get("params") or {}
    timeline = [{"ts": r.get("ts", ""), "step": r.get("step"), "status": r.get("status"),
                 "summary": r.get("summary") or ""} for r in finished]
    return {
        "reason": str(params.get("reason") or ""),
        "run_ids": sorted(set(run_ids)),
        "processes_signalled": pids,
        "orders_cancelled": cancelled,
        "positions_closed": closed,
        "timeline": {"detected": started.get("ts", ""), "paused": paused, "analysed": "",
                     "root_cause_found": "", "fix_deployed": ""},
        "failure_step": failed[-1].get("step") if failed else None,  # the one that ended the play
        "journal_timeline": timeline[-TIMELINE_ROWS:],
    }
