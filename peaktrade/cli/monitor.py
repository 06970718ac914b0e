"""``peaktrade monitor overview|run|follow`` (seed 10b)."""

from __future__ import annotations

import typer

from peaktrade.cli import _common


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Watch runs: overview, one run, live follow (seed 10b).", no_args_is_help=True)
    app.add_typer(group, name="monitor")

    @group.command("overview")
    def overview(
        include_inactive: bool = typer.Option(False, "--include-inactive", help="Also show runs that have ended."),
        only_active: bool = typer.Option(False, "--only-active", help="Only active runs (the default)."),
        max_age_hours: float = typer.Option(None, "--max-age-hours", help="Only runs active in the last H hours."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """All active runs: host, mode, strategy, symbol, timeframe, last event, equity, PnL, drawdown.

        On a desk on several hosts the other hosts' runs too (a closed one's figures from its verified copy
        in object storage; exit 1 when a copy cannot be verified)."""
        from peaktrade.clock import SYSTEM_CLOCK
        from peaktrade.errors import UsageError
        from peaktrade.monitor.render import overview_text
        from peaktrade.monitor.views import overview as build

        if only_active and include_inactive:
            raise UsageError("--only-active and --include-inactive exclude each other")
        if max_age_hours is not None and not max_age_hours > 0:
            raise UsageError(f"--max-age-hours must be positive, not {max_age_hours}")
        rows = build(_common.root(), include_inactive=include_inactive, max_age_hours=max_age_hours,
                     now=SYSTEM_CLOCK.now())
        if as_json:
            _common.print_json(rows)
        else:
            print(overview_text(rows, include_inactive=include_inactive))
        if any(r.get("copy_error") for r in rows):
            raise typer.Exit(1)  # fail closed: a run whose copy differs from its recorded hash shows no figures

    @group.command("run")
    def run(
        run_id: str = typer.Option(..., "--run-id", help="The run to show."),
        last: int = typer.Option(10, "--last", min=1, max=1000, help="How many of the last events to show."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """One run: summary, metrics (equity, PnL, drawdown, orders) and its last events."""
        from peaktrade.monitor.render import detail_text
        from peaktrade.monitor.views import run_detail
        from peaktrade.redact import redact

        detail = redact(run_detail(_common.root(), run_id, last=last))
        if as_json:
            _common.print_json(detail)
        else:
            print(detail_text(detail))

    @group.command("follow")
    def follow(
        run_id: str = typer.Option(..., "--run-id", help="The run to follow."),
        refresh_interval: float = typer.Option(2.0, "--refresh-interval", min=0.0,
                                               help="Seconds between refreshes (2-5 for live watching)."),
        max_refreshes: int = typer.Option(None, "--max-refreshes", hidden=True, min=1),
    ) -> None:
        """Show the run, then its new events as they arrive; Ctrl-C ends it (exit 0)."""
        from peaktrade.clock import SYSTEM_CLOCK
        from peaktrade.errors import UsageError
        from peaktrade.monitor.follow import follow as do_follow
        from peaktrade.redact import redact_text

        if refresh_interval < 0.1 and max_refreshes is None:
            raise UsageError(f"--refresh-interval must be at least 0.1 s, not {refresh_interval:g}")

        def out(text: str) -> None:
            print(redact_text(text), flush=True)

        try:
            do_follow(_common.root(), run_id, interval=refresh_interval, clock=SYSTEM_CLOCK, out=out,
                      max_refreshes=max_refreshes)
        except KeyboardInterrupt:
            print("\nstopped following", flush=True)
