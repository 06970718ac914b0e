"""``peaktrade alerts run-rules|list|watch``: the alert rules (seed 10c) with state (DESIGN 6).

``run-rules`` exits 1 iff a CRITICAL fired; ``watch --once`` exits 1 iff a CRITICAL is firing after the round.
"""

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
        """Evaluate the rules on one run (or every active and unacknowledged crashed one); thresholds not
        given come from policies/alerts.yaml. Notifies only what the alert state says is due (fired, escalated,
        repeat interval passed, resolved). Exit 0: no CRITICAL alert; 1: at least one CRITICAL fired."""
        from peaktrade.alerts.engine import run_rules as do_run
        from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
        from peaktrade.alerts.watch import watched_runs
        from peaktrade.errors import UsageError

        if bool(run_id) == all_active:
            raise UsageError("give either --run-id ID or --all-active")
        root = _common.root()
        clock = _clock(now)
        settings = resolve_settings(
            load_alerts_policy(root), pnl_drop_threshold_pct=pnl_drop_threshold_pct,
            pnl_drop_window_hours=pnl_drop_window_hours, no_events_max_minutes=no_events_max_minutes,
            error_spike_max_errors=error_spike_max_errors, error_spike_window_minutes=error_spike_window_minutes)
        run_ids = [run_id] if run_id else watched_runs(root)[0]
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

    @group.command("list")
    def list_alerts(
        show_all: bool = typer.Option(False, "--all", help="Every alert kept, not only firing and recent ones."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
        now: str = typer.Option(None, "--now", hidden=True, help="List as of this ISO-8601 UTC time."),
    ) -> None:
        """Firing alerts and those resolved in the last 24 h (newest first), each with the playbook to run."""
        from peaktrade.alerts.listing import recent_alerts, render

        rows = recent_alerts(_common.root(), _clock(now), show_all=show_all)
        if as_json:
            _common.print_json([r.__dict__ for r in rows])
        else:
            print(render(rows))

    @group.command("watch")
    def watch(
        once: bool = typer.Option(False, "--once", help="One round, then exit 1 iff a CRITICAL is firing."),
        interval: float = typer.Option(60.0, "--interval", help="Seconds between rounds (without --once)."),
        no_notify: bool = typer.Option(False, "--no-notify", help="Evaluate only, notify nobody, keep no state."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output (one object per round)."),
        now: str = typer.Option(None, "--now", hidden=True, help="Evaluate as of this ISO-8601 UTC time."),
    ) -> None:
        """Evaluate every active run, every unacknowledged crashed or lost run and every run with a firing
        alert, with state (policies/alerts.yaml), every --interval seconds; for a systemd timer or cron use
        --once. Exit (with --once) 0: no CRITICAL firing after the round; 1: a CRITICAL is firing."""
        from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
        from peaktrade.alerts.watch import watch_round
        from peaktrade.errors import UsageError

        if not interval > 0:
            raise UsageError(f"--interval must be a positive number of seconds, not {interval}")
        root = _common.root()
        clock = _clock(now)
        while True:
            result = watch_round(root, resolve_settings(load_alerts_policy(root)), clock, notify=not no_notify)
            if as_json:
                _common.print_json(result.to_dict())
            else:
                for report in result.reports:
                    _print(report)
                print(f"round done: {len(result.reports)} run(s), {len(result.firing_critical)} CRITICAL firing"
                      + (f" ({', '.join(result.firing_critical)})" if result.firing_critical else ""), flush=True)
            if once:
                if result.firing_critical:
                    raise typer.Exit(1)
                return
            try:
                clock.sleep(interval)
            except KeyboardInterrupt:
                return


def _print(report) -> None:
    from peaktrade.redact import redact_text

    active = [k for k, v in report.rules.items() if v is not None]
    print(f"run {report.run_id}: {report.events} events, rules: {', '.join(active) or 'none'} (as of {report.now})")
    for rule, why in report.skipped.items():
        print(f"skipped {rule}: {why}")
    if not report.alerts:
        print("OK: no alerts")
    for alert in report.alerts:
        play = f" (playbook: {alert.playbook})" if alert.playbook else ""
        print(redact_text(f"{alert.level:8} {alert.rule}: {alert.message}{play}"))
    for t in report.transitions:
        print(f"  notified {t.change}: {t.alert.rule} {t.alert.level}")
    if report.state_error:
        print(f"  {report.state_error}")
    for d in report.deliveries:
        if d.status == "failed":
            print(f"  notifier {d.channel} failed: {d.error}")
    if report.critical:
        print("CRITICAL alert fired")


def _clock(now: str | None):
    from peaktrade.clock import SYSTEM_CLOCK, FakeClock
    from peaktrade.errors import UsageError

    if not now:
        return SYSTEM_CLOCK
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(now.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {now!r} is not an ISO-8601 time") from None
    return FakeClock(when if when.tzinfo else when.replace(tzinfo=UTC))
