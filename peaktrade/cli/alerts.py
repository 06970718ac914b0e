"""``peaktrade alerts run-rules``: evaluate the alert rules on a run (seed 10c); exit 1 iff CRITICAL."""

from __future__ import annotations

import typer

from peaktrade.cli import _common


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Alert rules and notifications (seed 10c).", no_args_is_help=True)
    app.add_typer(group, name="alerts")

    @group.command("run-rules")
    def run_rules(
        run_id: str = typer.Option(None, "--run-id", help="The run to check."),
        all_active: bool = typer.Option(False, "--all-active", help="Check every active run (one cron line)."),
        pnl_drop_threshold_pct: float = typer.Option(None, help="CRITICAL when equity fell ≥ X % in the window."),
        pnl_drop_window_hours: float = typer.Option(None, help="PnL-drop window in hours (policy default 1)."),
        no_events_max_minutes: float = typer.Option(None, help="Silence > M min: WARNING; > 2 M: CRITICAL."),
        error_spike_max_errors: int = typer.Option(None, help="Errors > N in the window: WARNING; > 2 N: CRITICAL."),
        error_spike_window_minutes: float = typer.Option(None, help="Error-spike window in minutes (default 10)."),
        no_notify: bool = typer.Option(False, "--no-notify", help="Evaluate only, notify nobody."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        now: str = typer.Option(None, "--now", hidden=True, help="Evaluate as of this ISO-8601 UTC time."),
    ) -> None:
        """Evaluate pnl_drop, no_events and error_spike on one run (or every active one); thresholds not
        given come from policies/alerts.yaml. Exit 0: no CRITICAL alert; 1: at least one CRITICAL fired."""
        from peaktrade.alerts.engine import run_rules as do_run
        from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
        from peaktrade.clock import SYSTEM_CLOCK, FakeClock
        from peaktrade.errors import UsageError

        if bool(run_id) == all_active:
            raise UsageError("give either --run-id ID or --all-active")
        root = _common.root()
        clock = SYSTEM_CLOCK
        if now:
            from datetime import UTC, datetime

            try:
                when = datetime.fromisoformat(now.replace("Z", "+00:00"))
            except ValueError:
                raise UsageError(f"--now {now!r} is not an ISO-8601 time") from None
            clock = FakeClock(when if when.tzinfo else when.replace(tzinfo=UTC))
        settings = resolve_settings(
            load_alerts_policy(root), pnl_drop_threshold_pct=pnl_drop_threshold_pct,
            pnl_drop_window_hours=pnl_drop_window_hours, no_events_max_minutes=no_events_max_minutes,
            error_spike_max_errors=error_spike_max_errors, error_spike_window_minutes=error_spike_window_minutes)
        run_ids = [run_id] if run_id else _active_runs(root)
        reports = [do_run(root, rid, settings, clock, notify=not no_notify) for rid in run_ids]
        if as_json:
            _common.print_json(reports[0].to_dict() if run_id else [r.to_dict() for r in reports])
        else:
            if not reports:
                print("no active runs")
            for report in reports:
                _print(report)
        if any(r.critical for r in reports):
            raise typer.Exit(1)


def _active_runs(root) -> list[str]:
    """Active runs, and crashed or lost ones nobody acknowledged (their silence is what to alert on)."""
    from peaktrade.monitor.crashed import needs_attention
    from peaktrade.monitor.runs import active_run_ids, is_active, read_meta, run_dirs

    registry = active_run_ids(root)
    metas = [(d, read_meta(d)) for d in run_dirs(root)]
    return [d.name for d, meta in metas if is_active(meta, registry) or needs_attention(meta, d)]


def _print(report) -> None:
    from peaktrade.redact import redact_text

    active = [k for k, v in report.rules.items() if v is not None]
    print(f"run {report.run_id}: {report.events} events, rules: {', '.join(active) or 'none'} (as of {report.now})")
    for rule, why in report.skipped.items():
        print(f"skipped {rule}: {why}")
    if not report.alerts:
        print("OK: no alerts")
    for alert in report.alerts:
        print(redact_text(f"{alert.level:8} {alert.rule}: {alert.message}"))
    for d in report.deliveries:
        if d.status == "failed":
            print(f"  notifier {d.channel} failed: {d.error}")
    if report.critical:
        print("CRITICAL alert fired")
