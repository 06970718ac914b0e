"""Evaluate the alert rules on one run, keep their state, and hand what is due to the notifiers.

Only the columns the enabled rules need are read (see ``peaktrade.monitor.columns``), so one
evaluation over a million events stays well under half a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peaktrade.alerts.policy import RuleSettings
from peaktrade.alerts.rules import CRITICAL, Alert, error_spike, no_events, pnl_drop, position_drift, run_crashed
from peaktrade.alerts.state import Transition, track

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
    evaluated: set[str] = field(default_factory=set)  # rules that ran (their state may resolve)
    transitions: list[Transition] = field(default_factory=list)  # notifications that were due
    state_error: str = ""  # the desk state could not be used: every alert was notified (fail loud)

    @property
    def critical(self) -> bool:
        return any(a.level == CRITICAL for a in self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "now": self.now, "events": self.events, "rules": self.rules,
            "critical": self.critical, "alerts": [a.to_dict() for a in self.alerts], "skipped": self.skipped,
            "deliveries": [d.to_dict() for d in self.deliveries],
            "notified": [t.to_dict() for t in self.transitions], "state_error": self.state_error,
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
    from peaktrade.monitor.crashed import ACKABLE, read_ack
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
    acked = read_ack(path, root) is not None
    abnormal = meta.get("status") in ("crashed", "failed", "killed")
    crash = run_crashed(meta, acknowledged=acked, run_id=run_id)
    if settings.no_events_max_minutes is not None and crash is not None:
        # one cause, one page: a crashed or lost run is silent because it died, and run_crashed already pages
        # for it (CRITICAL, with its playbook). Its silence resolves with the acknowledgement, like the crash
        report.skipped["no_events"] = f"inhibited: run_crashed is firing for this run ({meta.get('status')})"
    elif settings.no_events_max_minutes is not None and acked and meta.get("status") in ACKABLE:
        # someone looked at the crash or failure (`peaktrade runs ack`): its silence is explained, its alerts resolve
        report.skipped["no_events"] = f"run {meta.get('status')} and acknowledged"
    elif settings.no_events_max_minutes is not None and not abnormal and not is_active(meta, active_run_ids(root)):
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
    found.append(crash)
    if settings.position_drift_window_minutes is not None:
        from peaktrade.alerts.drift import drift_events

        window_s = settings.position_drift_window_minutes * 60
        since = now_ns - int(window_s * 1_000_000_000)  # older row groups of the Parquet file are not read
        found.append(position_drift(drift_events(path, since), now_ns, window_s=window_s, run_id=run_id))
    report.evaluated = {name for name, conf in settings.to_dict().items() if conf is not None}
    report.alerts = [a for a in found if a is not None]
    return report


def run_rules(root: Root, run_id: str, settings: RuleSettings, clock: Clock, *, notify: bool = True,
              notifier_settings: dict[str, Any] | None = None) -> AlertReport:
    """Evaluate, update the alert state in the desk, then notify what is due (fired, escalated, repeat
    after ``repeat_interval``, resolved) through its level's channels. ``notify=False`` evaluates only and
    leaves the state alone, so the next notifying run still sends what is due."""
    from peaktrade.clock import utc_iso
    from peaktrade.monitor.columns import parse_ts_ns

    now = utc_iso(clock.now())
    report = evaluate(root, run_id, settings, parse_ts_ns(now) or 0)
    if notify:
        notify_due(root, report, settings, clock, now, notifier_settings)
    return report


def notify_due(root: Root, report: AlertReport, settings: RuleSettings, clock: Clock, now: str,
               notifier_settings: dict[str, Any] | None = None) -> None:
    from peaktrade.desk import DeskUnavailable, open_desk

    try:
        report.transitions = track(open_desk(root), report.run_id, report.alerts, report.evaluated, now,
                                   settings.repeat_interval_minutes * 60)
    except DeskUnavailable as exc:
        # without state every alert is sent: a duplicate page is better than a silent desk
        report.state_error = f"desk state unavailable ({exc}): every alert notified"
        report.transitions = [Transition(a, "fired") for a in report.alerts]
    send(root, report, clock, settings.channels, notifier_settings)


def send(root: Root, report: AlertReport, clock: Clock, channels: dict[str, list[str]],
         notifier_settings: dict[str, Any] | None = None) -> None:
    from peaktrade.alerts.notifiers import build_notifiers, dispatch

    if not report.transitions:
        return
    if notifier_settings is None:
        from peaktrade.config import load_config

        notifier_settings = load_config(root).get("notifiers", {}) or {}
    notifiers = build_notifiers(root, notifier_settings, clock)
    report.deliveries += dispatch([t.alert for t in report.transitions], notifiers, channels)


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
