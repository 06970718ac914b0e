"""Plays for the dashboard: the integrity check of ``plays verify`` (``seal.verify_play``) and the summary
of the checklist; a play's checklist and incident report are found by its play id under ``reports/``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from peaktrade.desk import open_desk
from peaktrade.errors import PeakTradeError
from peaktrade.playbook.journal import JOURNAL, verify_journal
from peaktrade.playbook.render import summarize
from peaktrade.playbook.seal import SIG, PlayCheck, verify_play
from peaktrade.redact import redact
from peaktrade.root import Root

PLAY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# verifying a play reads its journal whole: remember the answer while the journal, its seal and the desk's
# play records are unchanged (the desk's change marker moves on any commit by any process)
_CHECKS: dict[str, tuple[tuple[Any, ...], PlayCheck]] = {}


def _checked(root: Root, path: Path) -> PlayCheck:
    """``seal.verify_play``: what ``plays verify`` runs (chain, head seal, the desk state's records)."""
    sig: tuple[Any, ...]
    try:
        sig = (_stat(path), _stat(path.parent / SIG), open_desk(root).change_marker())
    except PeakTradeError:
        sig = ()
    hit = _CHECKS.get(str(path))
    if sig and hit and hit[0] == sig:
        return hit[1]
    check = verify_play(root, path.parent.name)
    if sig:
        _CHECKS[str(path)] = (sig, check)
    return check


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def journals(root: Root, limit: int | None = None) -> list[Path]:
    paths = sorted(root.plays_dir.glob(f"*/{JOURNAL}"), key=lambda p: p.parent.name, reverse=True)
    return paths[:limit] if limit else paths


def row(root: Root, path: Path) -> dict[str, Any]:
    check = _checked(root, path)
    view = summarize(read_records_safely(path))
    started = view["play"]
    integrity = "ok" if check.ok else f"TAMPERED ({', '.join(dict.fromkeys(check.findings))})"
    return redact({"play_id": path.parent.name, "playbook": started.get("playbook"),
                   "operator": started.get("operator"), "started": started.get("ts"),
                   "finished": view["finished"] or None, "outcome": view["outcome"],
                   "dry_run": bool((started.get("flags") or {}).get("dry_run")), "ok": check.ok,
                   "integrity": integrity, "seal": check.signature, "problems": check.problems[:5]})


def read_records_safely(path: Path) -> list[dict[str, Any]]:
    """The journal's records for display (a tampered line is skipped; ``verify_play`` reports it)."""
    return verify_journal(path).records


def plays(root: Root, limit: int = 100) -> list[dict[str, Any]]:
    return [row(root, p) for p in journals(root, limit)]


def integrity_failures(root: Root) -> int:
    return sum(1 for p in journals(root) if not _checked(root, p).ok)


def play(root: Root, play_id: str) -> dict[str, Any] | None:
    if not PLAY_ID.match(play_id or ""):
        return None
    path = root.plays_dir / play_id / JOURNAL
    if not path.is_file():
        return None
    view = summarize(read_records_safely(path))
    steps = [{k: s.get(k) for k in ("step", "title", "kind", "effect", "status", "who", "when", "duration",
                                    "summary", "note")} for s in view["steps"]]
    return redact({**row(root, path), "steps": steps, "reason": view["reason"],
                   "guards": [{k: g.get(k) for k in ("guard", "ok", "message", "ts")} for g in view["guards"]],
                   "checklist": _report(root.checklists_dir, play_id),
                   "incident": _report(root.incidents_dir, play_id)})


def _report(base: Path, play_id: str) -> str | None:
    """The newest ``*_<play_id>.md`` in ``base`` (reports are named date_playbook_playid.md)."""
    if not base.is_dir():
        return None
    found = sorted(base.glob(f"*_{play_id}.md"))
    return found[-1].name if found else None
