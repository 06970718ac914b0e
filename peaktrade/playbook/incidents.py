"""The incident reports of reports/incidents/ as a lifecycle: list, find, resolve, recurrences.

A report is the Markdown file the incident template renders: ``<date>_<runbook>_<id>.md`` with a
``| Status | open |`` row. Its id is the part after date and runbook (a play id, or the id
``incident new`` made). A failed play whose failure an open report already records (same playbook,
same failing step) adds a recurrence line to that report instead of opening another one.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError
from peaktrade.fsutil import atomic_write_text

if TYPE_CHECKING:
    from peaktrade.root import Root

_ROW = re.compile(r"^\| (Severity|Status|Date) \| ([^|]*) \|$", re.M)
_TITLE = re.compile(r"^# Incident: (.*)$", re.M)
_MARK = re.compile(r"<!-- peaktrade-incident failure=(\S+) -->")
RECURRENCES = "## Recurrences"
RESOLUTION_PLACEHOLDER = "(what was done to resolve it)"


@dataclass
class Incident:
    id: str
    path: str
    date: str
    runbook: str
    title: str
    severity: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse(root: Root, path: Path) -> Incident:
    text = path.read_text(encoding="utf-8", errors="replace")
    rows = {m.group(1): m.group(2).strip() for m in _ROW.finditer(text)}
    parts = path.stem.split("_", 2)
    title = _TITLE.search(text)
    return Incident(parts[2] if len(parts) == 3 else path.stem, root.rel(path), rows.get("Date", parts[0]),
                    parts[1] if len(parts) == 3 else "", title.group(1).strip() if title else path.stem,
                    rows.get("Severity", "?"), rows.get("Status", "?"))


def list_incidents(root: Root, *, open_only: bool = False) -> list[Incident]:
    """Every report, newest first (by file name: date, then id)."""
    folder = root.incidents_dir
    paths = sorted(folder.glob("*.md"), key=lambda p: (p.name[:10], p.stem.split("_", 2)[-1]), reverse=True) \
        if folder.is_dir() else []
    found = [_parse(root, p) for p in paths]
    return [i for i in found if i.status == "open"] if open_only else found


def find_incident(root: Root, incident_id: str) -> Incident:
    """The report with this id (or a unique prefix of it); a usage error otherwise."""
    every = list_incidents(root)
    exact = [i for i in every if i.id == incident_id]
    hits = exact or [i for i in every if i.id.startswith(incident_id)] if incident_id else []
    if len(hits) == 1:
        return hits[0]
    if not hits:
        recent = ", ".join(i.id for i in every[:5]) or "none"
        raise UsageError(f"no incident {incident_id!r} in {root.rel(root.incidents_dir)}/ (recent: {recent})")
    raise UsageError(f"incident id {incident_id!r} is ambiguous: {', '.join(i.id for i in hits[:5])}")


def resolve_incident(root: Root, incident: Incident, *, note: str, operator: str, when: str) -> None:
    path = root.path / incident.path
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^\| Status \| open \|$", "| Status | resolved |", text, count=1, flags=re.M)
    entry = f"{' '.join(note.split())}\n\nResolved by {operator} at {when}."
    if RESOLUTION_PLACEHOLDER in text:
        text = text.replace(RESOLUTION_PLACEHOLDER, entry, 1)
    else:
        text = text.rstrip("\n") + f"\n\n## Resolution ({when})\n\n{entry}\n"
    atomic_write_text(path, text)


def failure_marker(playbook: Any, step: Any) -> str:
    return f"<!-- peaktrade-incident failure={playbook}/{step} -->"


def recurrence_of(root: Root, playbook: Any, step: Any, path: Path) -> Path | None:
    """The open report that already records this failure (not ``path`` itself: a resumed play rewrites its own)."""
    if step is None or path.exists() or not root.incidents_dir.is_dir():
        return None
    want = f"{playbook}/{step}"
    for inc in list_incidents(root, open_only=True):
        other = root.path / inc.path
        m = _MARK.search(other.read_text(encoding="utf-8", errors="replace"))
        if m and m.group(1) == want:
            return other
    return None


def note_recurrence(path: Path, started: dict[str, Any], reason: str) -> None:
    text = path.read_text(encoding="utf-8")
    line = (f"- {started.get('ts', '')}: play `{started.get('play_id')}` by {started.get('operator')} "
            f"failed the same way: {' '.join(str(reason).split())}")
    body = text.rstrip("\n")
    if RECURRENCES not in body:
        body += f"\n\n{RECURRENCES}"
    sep = "\n\n" if body.endswith(RECURRENCES) else "\n"
    atomic_write_text(path, body + sep + line + "\n")
