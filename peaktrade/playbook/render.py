"""Reporters: the checklist of every play and the incident report of a failed one, from the journal.

Reporters read journal records; they never recompute a result. ``summarize`` is the one reading
of a journal that the checklist, the incident report and ``plays show`` share.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.fsutil import atomic_write_text
from peaktrade.playbook.evidence import evidence_blocks, incident_facts
from peaktrade.playbook.incidents import note_recurrence, recurrence_of
from peaktrade.playbook.redaction import redact_record

if TYPE_CHECKING:
    from peaktrade.root import Root

TEMPLATES = Path(__file__).parent / "templates"
_END_TYPES = ("play_finished", "play_interrupted")
_NAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _cell(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _plan_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Planned steps (top level, then each sub-run after its parent) in playbook order."""
    rows: list[dict[str, Any]] = []
    for rec in records:
        if rec.get("type") in ("play_started", "subplay_started"):
            frame = rec.get("frame") or ""
            items = [{"step": f"{frame}/{p['id']}" if frame else p["id"], "frame": frame, **p}
                     for p in rec.get("plan") or []]
            known = {r["step"] for r in rows}
            items = [i for i in items if i["step"] not in known]
            at = next((n + 1 for n, r in enumerate(rows) if r["step"] == frame), len(rows))
            rows[at:at] = items
    return rows


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    started = next((r for r in records if r.get("type") == "play_started"), {})
    rows = {r["step"]: r for r in _plan_rows(records)}
    for r in rows.values():
        r.update(status="not reached", who="", when="", duration="", summary="", note="", answer="", attempts=0)
    approvals: dict[str, Any] = {}
    for rec in records:
        key = rec.get("step")
        if rec.get("type") == "step_started" and key:
            row = rows.setdefault(key, {"step": key, "id": rec.get("id"), "title": rec.get("title"),
                                        "kind": rec.get("kind"), "effect": rec.get("effect")})
            row.update(status="started, not finished", who=rec.get("operator"), when=rec.get("ts"), duration="",
                       summary="", note="", answer="", attempts=0)
        elif rec.get("type") == "step_finished" and key in rows:
            dur = rec.get("duration_s")
            rows[key].update(status=rec.get("status"), who=rec.get("operator"),
                             duration=f"{dur:.3f}" if isinstance(dur, (int, float)) else "",
                             summary=rec.get("summary") or "", note=rec.get("note") or "",
                             answer=rec.get("answer") or "", attempts=rec.get("attempts"),
                             output=rec.get("output") or "", data=rec.get("data") or {})
            for name, rec_ in (rec.get("approvals") or {}).items():
                approvals[name] = rec_
        elif rec.get("type") == "approval_bound" and isinstance(rec.get("record"), dict):
            where = f" (sub-run {rec.get('frame')})" if rec.get("frame") else ""
            approvals.setdefault(f"{rec.get('decision')}{where}", rec["record"])
    ends = [i for i, r in enumerate(records) if r.get("type") in _END_TYPES]
    resumed = [i for i, r in enumerate(records) if r.get("type") == "play_resumed"]
    end = records[ends[-1]] if ends else None
    if end is None or (resumed and resumed[-1] > ends[-1]):
        outcome, end = "incomplete (running, or the process died)", None
    else:
        outcome = end.get("outcome") or "interrupted"
    return {
        "play": started,
        "steps": list(rows.values()),
        "guards": [r for r in records if r.get("type") == "guard_evaluated"],
        "notices": [r for r in records if r.get("type") == "notice"],
        "resumes": [r for r in records if r.get("type") == "play_resumed"],
        "approvals": approvals,
        "outcome": outcome,
        "reason": (end or {}).get("reason") or "",
        "finished": (end or {}).get("ts") or "",
    }


def _safe(value: Any, default: str) -> str:
    """A file-name part from journal data: a hand-edited journal must not name '../x' or '/etc'."""
    text = str(value) if value is not None else ""
    return text if _NAME_PART.fullmatch(text) else default


def _file(root_dir: Path, started: dict[str, Any], play_id: Any) -> Path:
    """Named by the journal's own play id (never the folder's: a copied journal is refused on resume)."""
    date = _safe(str(started.get("ts", ""))[:10], "undated")
    return root_dir / f"{date}_{_safe(started.get('playbook'), 'unknown')}_{_safe(play_id, 'unknown')}.md"


def _render(template: str, context: dict[str, Any]) -> str:
    from peaktrade.templating import render_template_file

    return render_template_file(TEMPLATES / template, redact_record(context))


def _table_view(view: dict[str, Any]) -> dict[str, Any]:
    out = dict(view)
    out["steps"] = [{k: _cell(v) if k != "data" else v for k, v in s.items()} for s in view["steps"]]
    # the header table's cells too: a param value, the operator or the reason may hold a '|'
    play = dict(view.get("play") or {})
    if isinstance(play.get("params"), dict):
        play["params"] = {k: _cell(v) for k, v in play["params"].items()}
    if play.get("operator") is not None:
        play["operator"] = _cell(play["operator"])
    out["play"] = play
    if out.get("reason"):
        out["reason"] = _cell(out["reason"])
    return out


def render_checklist(root: Root, records: list[dict[str, Any]]) -> Path:
    view = summarize(records)
    path = _file(root.checklists_dir, view["play"], view["play"].get("play_id", "unknown"))
    atomic_write_text(path, _render("checklist.md.j2", {**_table_view(view), "journal": _journal_seal(root, records),
                                                         "evidence": evidence_blocks(view["steps"])}))
    return path


def _journal_seal(root: Root, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Head hash and signature status printed on the checklist, so the document ties to its journal."""
    from peaktrade.playbook.seal import signature_status

    if not records:
        return {"head": "-", "seq": 0, "seal": "absent"}
    last = records[-1]
    play_id = str((records[0] or {}).get("play_id", ""))
    try:
        status = signature_status(root, play_id, int(last.get("seq", 0)), str(last.get("hash", "")))
    except Exception as exc:  # noqa: BLE001 - a checklist is still rendered; it says why it is unsigned
        status = f"unknown ({type(exc).__name__})"
    # "seal", not "signature": a key named like a secret would be redacted in the rendered document
    return {"head": last.get("hash", "-"), "seq": last.get("seq", 0), "seal": status}


def _impact(view: dict[str, Any]) -> dict[str, Any]:
    run_ids: list[str] = []
    for s in view["steps"]:
        data = s.get("data") or {}
        for key in ("run_id", "run_ids"):
            val = data.get(key)
            run_ids += [val] if isinstance(val, str) else [v for v in (val or []) if isinstance(v, str)]
    mode = view["play"].get("mode", "")
    financial = "real" if mode == "live" else "simulated" if run_ids else "none"
    return {"systems": ["peaktrade", f"environment {mode}"], "run_ids": sorted(set(run_ids)),
            "financial": financial}


def render_incident(root: Root, records: list[dict[str, Any]]) -> Path:
    view = summarize(records)
    started = view["play"]
    failed = [s for s in view["steps"] if s["status"] in ("failed", "errored", "blocked")]
    incident = (started.get("on_failure") or {}).get("incident") or {}
    severity = incident.get("severity", "medium")
    # the playbook's own words for this failure (on_failure.incident.title), else its title
    name = str(incident.get("title") or started.get("title", started.get("playbook")))
    name = name[len("Incident: "):] if name.startswith("Incident: ") else name  # the heading says "Incident:"
    dry = " (dry run: nothing was changed)" if (started.get("flags") or {}).get("dry_run") else ""
    facts = incident_facts(records)
    facts["timeline"]["detected"] = failed[0]["when"] if failed else view["finished"]
    context = {
        **facts,
        "title": f"{name}: play {started.get('play_id')} failed{dry}",
        "date": str(started.get("ts", ""))[:10],
        "severity": severity,
        "status": "open",
        "summary": view["reason"] or "the play failed",
        "root_cause": failed[0]["summary"] if failed else "",
        "impact": {**_impact(view), "run_ids": facts["run_ids"]},
        "failed_steps": [{k: _cell(v) for k, v in s.items() if k != "data"} for s in failed],
        "play": started,
        "runbook": started.get("playbook"),
    }
    path = _file(root.incidents_dir, started, started.get("play_id", "unknown"))
    again = recurrence_of(root, started.get("playbook"), facts["failure_step"], path)
    if again is not None:  # one report per failure: a play failing the same way again is a recurrence
        note_recurrence(again, started, view["reason"])
        return again
    atomic_write_text(path, _render("incident.md.j2", context))
    return path


def render_new_incident(root: Root, *, runbook: str, severity: str, run_id: str | None, title: str,
                        date: str, incident_id: str, play: dict[str, Any] | None = None,
                        facts: dict[str, Any] | None = None) -> Path:
    """A fresh incident report (``peaktrade incident new``) from the same template; opened by a play
    (``incident.new``), it names that play so the report leads back to its journal."""
    context = {
        "title": title, "date": date, "severity": severity, "status": "open", "summary": "",
        "timeline": {"detected": "", "paused": "", "analysed": "", "root_cause_found": "", "fix_deployed": ""},
        "root_cause": "", "failed_steps": [], "play": play or {}, "runbook": runbook,
        "impact": {"systems": ["peaktrade"], "run_ids": [run_id] if run_id else [],
                   "financial": "none"},
    }
    if facts:  # opened by a play: prefilled with what the play did so far (incident.new)
        context.update(facts)
        context["impact"]["run_ids"] = sorted({*context["impact"]["run_ids"], *facts.get("run_ids", [])})
    path = root.incidents_dir / f"{date}_{runbook}_{incident_id}.md"
    if path.exists():
        raise FileExistsError(path)
    atomic_write_text(path, _render("incident.md.j2", context))
    return path
