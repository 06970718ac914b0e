"""``peaktrade alerts watch``: one round evaluates every run worth watching, with state.

Watched each round: every active run, every crashed or lost run nobody acknowledged, and every run that
still has a firing alert in the desk state (so an alert resolves when its run ends in order, is
acknowledged, or is removed, instead of staying "firing" for ever).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peaktrade.alerts.engine import AlertReport, run_rules, send
from peaktrade.alerts.policy import RuleSettings
from peaktrade.alerts.rules import CRITICAL
from peaktrade.alerts.state import firing, resolve_missing_run

if TYPE_CHECKING:
    from peaktrade.clock import Clock
    from peaktrade.root import Root


def watched_runs(root: Root) -> tuple[list[str], list[str]]:
    """(run ids to evaluate, run ids with firing alerts whose run directory is gone)."""
    from peaktrade.desk import DeskUnavailable, open_desk
    from peaktrade.monitor.crashed import needs_attention
    from peaktrade.monitor.runs import active_run_ids, is_active, read_meta, run_dirs

    registry = active_run_ids(root)
    dirs = {d.name: d for d in run_dirs(root)}
    chosen = [name for name, d in dirs.items()
              if is_active(meta := read_meta(d), registry) or needs_attention(meta, d, root)]
    try:
        stateful = {row.run_id for row in firing(open_desk(root))}
    except DeskUnavailable:
        stateful = set()
    chosen += sorted(r for r in stateful if r in dirs and r not in chosen)
    return chosen, sorted(r for r in stateful if r and r not in dirs)


@dataclass
class Round:
    reports: list[AlertReport] = field(default_factory=list)
    firing_critical: list[str] = field(default_factory=list)  # keys firing CRITICAL after the round

    def to_dict(self) -> dict[str, Any]:
        return {"reports": [r.to_dict() for r in self.reports], "firing_critical": self.firing_critical}


def watch_round(root: Root, settings: RuleSettings, clock: Clock, *, notify: bool = True) -> Round:
    from peaktrade.clock import utc_iso
    from peaktrade.desk import DeskUnavailable, open_desk

    run_ids, gone = watched_runs(root)
    out = Round([run_rules(root, rid, settings, clock, notify=notify) for rid in run_ids])
    now = utc_iso(clock.now())
    for rid in gone if notify else []:
        report = AlertReport(rid, now, 0, settings.to_dict())
        report.skipped["*"] = "run directory no longer exists: its alerts are resolved"
        report.transitions = resolve_missing_run(open_desk(root), rid, now)
        send(root, report, clock, settings.channels)
        out.reports.append(report)
    try:
        out.firing_critical = sorted(r.key for r in firing(open_desk(root)) if r.severity == CRITICAL)
    except DeskUnavailable:  # no state: what this round found is all there is
        out.firing_critical = [f"{a.rule}|{r.run_id}" for r in out.reports for a in r.alerts if a.level == CRITICAL]
    if not notify:  # the state was not updated: answer from this round's findings
        out.firing_critical = [f"{a.rule}|{r.run_id}" for r in out.reports for a in r.alerts if a.level == CRITICAL]
    return out

