"""Alert state (DESIGN 6): firing -> resolved per (rule, run), kept in the desk state, and what to notify.

One row per ``rule|run_id`` in the desk's ``alerts`` table. Given what the rules found in one evaluation,
``track`` decides which notifications are due:

- ``fired``: no row, or the row was resolved (the alert is back);
- ``escalated``: firing as WARNING, now CRITICAL;
- ``repeat``: still firing and the last notification is ``repeat_interval`` or longer ago;
- ``resolved``: firing before, the rule was evaluated and found nothing (notified once, at the level it had).

Anything else (same level within the interval, or CRITICAL falling back to WARNING) updates the row
silently, so cron every five minutes on one CRITICAL pages once, not twelve times an hour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from peaktrade.alerts.rules import CRITICAL, Alert
from peaktrade.desk.store import AlertRow

if TYPE_CHECKING:
    from peaktrade.desk.store import DeskStore

RANK = {"WARNING": 1, CRITICAL: 2}


@dataclass(frozen=True)
class Transition:
    alert: Alert  # what to send (a resolution carries status "resolved")
    change: str  # fired | escalated | repeat | resolved

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.alert.rule, "run_id": self.alert.run_id, "level": self.alert.level,
                "change": self.change, "playbook": self.alert.playbook}


def alert_key(rule: str, run_id: str) -> str:
    return f"{rule}|{run_id}"


def _seconds_between(earlier: str | None, later: str) -> float:
    if not earlier:
        return float("inf")
    try:
        a = datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        b = datetime.fromisoformat(later.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")  # an unreadable time must not silence an alert
    return (b - a).total_seconds()


def track(store: DeskStore, run_id: str, alerts: list[Alert], evaluated: set[str], now: str,
          repeat_interval_s: float) -> list[Transition]:
    """Update the state of ``run_id`` with this evaluation; return the notifications now due.

    ``evaluated``: the rules that ran on this run (a rule switched off says nothing about its alert, so
    its row is left as it is). The rows are written before the caller notifies: a notifier that hangs or
    a process killed mid-send loses one notification rather than paging again on every later run.
    """
    out: list[Transition] = []
    seen: set[str] = set()
    for alert in alerts:
        key = alert_key(alert.rule, run_id)
        seen.add(key)
        row = store.alert(key)
        change = None
        if row is None or row.status != "firing":
            change = "fired"
            row = AlertRow(key, alert.rule, run_id, alert.level, "firing", alert.message, alert.playbook, now, None)
        elif RANK.get(alert.level, 0) > RANK.get(row.severity, 0):
            change = "escalated"
        elif _seconds_between(row.last_notified, now) >= repeat_interval_s:
            change = "repeat"
        row = replace(row, severity=alert.level, message=alert.message, playbook=alert.playbook, resolved_at=None)
        if change is not None:
            row = replace(row, last_notified=now, notifications=(row.notifications or 0) + 1)
            out.append(Transition(alert, change))
        store.put_alert(row)
    for row in store.list_alerts(status="firing", limit=10_000):
        if row.run_id != run_id or row.key in seen or row.rule not in evaluated:
            continue
        store.put_alert(replace(row, status="resolved", resolved_at=now, last_notified=now,
                                notifications=(row.notifications or 0) + 1))
        gone = Alert(row.rule, row.severity, f"resolved (was: {row.message})", run_id,
                     {"first_fired": row.first_fired, "resolved_at": now}, playbook=row.playbook, status="resolved")
        out.append(Transition(gone, "resolved"))
    return out


def resolve_missing_run(store: DeskStore, run_id: str, now: str) -> list[Transition]:
    """Resolve every firing alert of a run whose directory is gone (nothing left to watch)."""
    rules = {r.rule for r in store.list_alerts(status="firing", limit=10_000) if r.run_id == run_id}
    return track(store, run_id, [], rules, now, float("inf"))


def firing(store: DeskStore) -> list[AlertRow]:
    return store.list_alerts(status="firing", limit=10_000)
