"""``peaktrade alerts list``: what is firing, and what resolved lately, from the desk's alert state."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from peaktrade.desk.store import AlertRow

if TYPE_CHECKING:
    from peaktrade.clock import Clock
    from peaktrade.root import Root

RECENT = timedelta(hours=24)  # resolved alerts shown without --all


def recent_alerts(root: Root, clock: Clock, *, show_all: bool = False, limit: int = 1000) -> list[AlertRow]:
    """Firing alerts first (CRITICAL before WARNING, newest first), then resolved ones (newest first)."""
    from peaktrade.clock import utc_iso
    from peaktrade.desk import open_desk

    store = open_desk(root)  # DeskUnavailable is a located one-line error through the CLI
    rows = store.list_alerts(limit=limit)
    since = utc_iso(clock.now() - RECENT)
    firing = [r for r in rows if r.status == "firing"]
    resolved = [r for r in rows if r.status != "firing" and (show_all or (r.resolved_at or "") >= since)]
    firing.sort(key=lambda r: (r.severity != "CRITICAL", _neg(r.first_fired)))
    resolved.sort(key=lambda r: r.resolved_at or "", reverse=True)
    return firing + resolved


def _neg(iso: str) -> str:
    # newest first inside a severity: ISO strings sort by time, so invert each character's order
    return "".join(chr(0x10FFFF - ord(c)) for c in iso or "")


def render(rows: list[AlertRow]) -> str:
    if not rows:
        return "No alerts firing, none resolved in the last 24 h (--all shows every alert kept)."
    head = ("STATUS", "LEVEL", "RULE", "RUN", "SINCE", "RESOLVED", "SENT", "PLAYBOOK")
    body = [(r.status, r.severity, r.rule, r.run_id, r.first_fired, r.resolved_at or "-", str(r.notifications or 0),
             r.playbook or "-") for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *body]]
    for r in rows:
        if r.status == "firing":
            lines.append(f"{r.rule} {r.run_id}: {r.message} -> peaktrade play {r.playbook}")
    return "\n".join(lines)
