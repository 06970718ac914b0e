"""Plays for the dashboard: the same integrity check as ``plays verify`` and the same summary as the
checklist; a play's checklist and incident report are found by its play id under ``reports/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from peaktrade.playbook.journal import JOURNAL, verify_journal
from peaktrade.playbook.render import summarize
from peaktrade.redact import redact
from peaktrade.root import Root

PLAY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# verifying a journal reads it whole: remember the answer while its size and mtime are unchanged
_CHECKS: dict[str, tuple[tuple[int, int], Any]] = {}


def _checked(path: Path) -> Any:
    try:
        st = path.stat()
    except OSError:
        return verify_journal(path)
    sig = (st.st_size, st.st_mtime_ns)
    hit = _CHECKS.get(str(path))
    if hit and hit[0] == sig:
        return hit[1]
    check = verify_journal(path)
    _CHECKS[str(path)] = (sig, check)
    return check


def journals(root: Root, limit: int | None = None) -> list[Path]:
    paths = sorted(root.plays_dir.glob(f"*/{JOURNAL}"), key=lambda p: p.parent.name, reverse=True)
    return paths[:limit] if limit else paths


def row(path: Path) -> dict[str, Any]:
    check = _checked(path)
    view = summarize(check.records)
    started = view["play"]
    return redact({"play_id": path.parent.name, "playbook": started.get("playbook"),
                   "operator": started.get("operator"), "started": started.get("ts"),
                   "finished": view["finished"] or None, "outcome": view["outcome"],
                   "dry_run": bool((started.get("flags") or {}).get("dry_run")),
                   "integrity": "ok" if check.ok else "TAMPERED", "problems": check.problems[:5]})


def plays(root: Root, limit: int = 100) -> list[dict[str, Any]]:
    return [row(p) for p in journals(root, limit)]


def integrity_failures(root: Root) -> int:
    return sum(1 for p in journals(root) if not _checked(p).ok)


def play(root: Root, play_id: str) -> dict[str, Any] | None:
    if not PLAY_ID.match(play_id or ""):
        return None
    path = root.plays_dir / play_id / JOURNAL
    if not path.is_file():
        return None
    check = _checked(path)
    view = summarize(check.records)
    steps = [{k: s.get(k) for k in ("step", "title", "kind", "effect", "status", "who", "when", "duration",
                                    "summary", "note")} for s in view["steps"]]
    return redact({**row(path), "steps": steps, "reason": view["reason"],
                   "guards": [{k: g.get(k) for k in ("guard", "ok", "message", "ts")} for g in view["guards"]],
                   "checklist": _report(root.checklists_dir, play_id),
                   "incident": _report(root.incidents_dir, play_id)})


def _report(base: Path, play_id: str) -> str | None:
    """The newest ``*_<play_id>.md`` in ``base`` (reports are named date_playbook_playid.md)."""
    if not base.is_dir():
        return None
    found = sorted(base.glob(f"*_{play_id}.md"))
    return found[-1].name if found else None
