"""Evaluate the alert rules on one run and hand the alerts to the notifiers.

Only the columns the enabled rules need are read (see ``peaktrade.monitor.columns``), so one
evaluation over a million events stays well under half a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peaktrade.alerts.policy import RuleSettings
from peaktrade.alerts.rules import CRITICAL, Alert, error_spike, no_events, pnl_drop, run_crashed

if TYPE_CHECKING:
    from peaktrade.alerts.notifiers import Delivery
    from peaktrade.clock import Clock
    from peaktrade.root import Root


@dataclass
class AlertReport:
    run_id: str
    now: str
    events: int
    rules: dict[str, Any]
    alerts: list[Alert] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # rule -> why it was not evaluated
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def critical(self) -> bool:
        return any(a.level == CRITICAL for a in self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "now": self.now, "events": self.events, "rules": self.rules,
            "critical": self.critical, "alerts": [a.to_dict() for a in self.alerts], "skipped": self.skipped,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


def _needed_columns(s: RuleSettings) -> list[str]:
    cols = ["ts_event"]
    if s.pnl_drop_threshold_pct is not None:
        cols.append("equity")
    if s.error_spike_max_errors is not None:
        cols += ["orders_rejected", "orders_blocked", "has_error", "held_back"]
    return cols


def evaluate(root: Root, run_id: str, settings: RuleSettings, now_ns: int) -> AlertReport:
    """Run every configured rule over the events of ``run_id`` (no notification)."""
    from peaktrade.monitor.columns import ns_to_iso, parse_ts_ns, read_columns
    from peaktrade.monitor.crashed import read_ack
    from peaktrade.monitor.runs import active_run_ids, is_active, read_meta, run_dir

    path = run_dir(root, run_id)
    cols = read_columns(path, _needed_columns(settings))
    ts = cols["ts_event"]
    report = AlertReport(run_id, ns_to_iso(now_ns) or "", int(len(ts)), settings.to_dict())
    found: list[Alert | None] = []
    if settings.pnl_drop_threshold_pct is not None and len(ts):
        found.append(pnl_drop(ts, cols["equity"], threshold_pct=settings.pnl_drop_threshold_pct,
                              window_s=settings.pnl_drop_window_hours * 3600, run_id=run_id))
    meta = read_meta(path)
    abnormal = meta.get("status") in ("crashed", "failed", "killed")
    if settings.no_events_max_minutes is not None and not abnormal and not is_active(meta, active_run_ids(root)):
        # a run that ended in order is silent by design; alerting on it every cron tick is noise.
        # A crashed, failed or killed one is not skipped: its silence is exactly what to alert on.
        why = meta.get("status") or f"ended_at {meta.get('ended_at')}"
        report.skipped["no_events"] = f"run has ended ({why})"
    elif settings.no_events_max_minutes is not None:
        last = int(ts.max()) if len(ts) else None
        started = parse_ts_ns(meta.get("started_at"))
        found.append(no_events(last, now_ns, max_silence_s=settings.no_events_max_minutes * 60,
                               started_ns=started, run_id=run_id))
    if settings.error_spike_max_errors is not None and len(ts):
        found.append(error_spike(ts, cols["orders_rejected"], cols["orders_blocked"], cols["has_error"],
                                 max_errors=settings.error_spike_max_errors,
                                 window_s=settings.error_spike_window_minutes * 60, run_id=run_id,
                                 held_back=cols["held_back"]))
    found.append(run_crashed(meta, acknowledged=read_ack(path) is not None, run_id=run_id))
    report.alerts = [a for a in found if a is not None]
    return report


def run_rules(root: Root, run_id: str, settings: RuleSettings, clock: Clock, *, notify: bool = True,
              notifier_settings: dict[str, Any] | None = None) -> AlertReport:
    """Evaluate, then notify every alert through its level's channels."""
    from peaktrade.alerts.notifiers import build_notifiers, dispatch
    from peaktrade.clock import utc_iso
    from peaktrade.monitor.columns import parse_ts_ns

    report = evaluate(root, run_id, settings, parse_ts_ns(utc_iso(clock.now())) or 0)
    if notify and report.alerts:
        if notifier_settings is None:
            from peaktrade.config import load_config

            notifier_settings = load_config(root).get("notifiers", {}) or {}
        notifiers = build_notifiers(root, notifier_settings, clock)
        report.deliveries = dispatch(report.alerts, notifiers, settings.channels)
    return report


def raise_alert(root: Root, alert: Alert, clock: Clock) -> list[Delivery]:
    """Send one alert raised elsewhere (e.g. the runtime on ExchangeAuthenticationError) through the
    channels of its level: the policy's channels, the config's notifier settings, logs/alerts.log.
    Never raises for a failing channel; returns what each channel did."""
    from peaktrade.alerts.notifiers import build_notifiers, dispatch
    from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
    from peaktrade.config import load_config

    channels = resolve_settings(load_alerts_policy(root)).channels
    notifiers = build_notifiers(root, load_config(root).get("notifiers", {}) or {}, clock)
    return dispatch([alert], notifiers, channels)
