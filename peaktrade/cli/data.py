"""``peaktrade data gaps|backfill``: cached OHLCV under data/ (runbook 10)."""

from __future__ import annotations

import typer

from peaktrade.cli import _common


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Cached market data: gaps and backfill (runbook 10).", no_args_is_help=True)
    app.add_typer(group, name="data")

    @group.command("gaps")
    def gaps(
        symbol: str = typer.Option(None, "--symbol", help="Market, e.g. BTC/EUR (default: the run's or [session])."),
        timeframe: str = typer.Option(None, "--timeframe", help="Bar size (default: the run's or [session])."),
        run_id: str = typer.Option(None, "--run-id", help="Check this run's bar events instead of data/."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Missing candles in data/ (or in a run's events). Exit 1 when gaps are found."""
        from peaktrade.analysis.datagaps import gap_report

        report = gap_report(_common.root(), symbol=symbol, timeframe=timeframe, run_id=run_id)
        if as_json:
            _common.print_json(report)
        else:
            print(f"{report['source']}: {report['candles']} candle(s) {report['first'] or '-'} .. "
                  f"{report['last'] or '-'}, {report['timeframe']}")
            for g in report["gaps"]:
                print(f"  GAP after {g['from']}, before {g['to']}: {g['missing']} candle(s) missing")
            if report.get("gap_events"):
                print(f"  the session logged {report['gap_events']} gap event(s)")
            print(f"{len(report['gaps'])} gap(s), {report['missing']} candle(s) missing" if report["gaps"]
                  else "OK: no gaps")
        if report["gaps"] or report.get("gap_events"):
            raise typer.Exit(1)

    @group.command("backfill")
    def backfill(
        symbol: str = typer.Option(None, "--symbol", help="Market (default: [session] symbol)."),
        timeframe: str = typer.Option(None, "--timeframe", help="Bar size (default: [session] timeframe)."),
        start: str = typer.Option(None, "--start", help="From (ISO-8601 UTC; default: 24 h before --end)."),
        end: str = typer.Option(None, "--end", help="To (ISO-8601 UTC; default: now)."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Fetch candles from the configured exchange into data/ (merged, atomic). Exit 1 if gaps remain."""
        from peaktrade.analysis.datagaps import backfill as do_backfill

        report = do_backfill(_common.root(), symbol=symbol, timeframe=timeframe, start=start, end=end)
        if as_json:
            _common.print_json(report)
        else:
            print(f"backfilled {report['path']}: fetched {report['fetched']}, new {report['added']}, "
                  f"{report['candles']} candle(s) in the window, {len(report['gaps'])} gap(s) left")
        if report["gaps"]:
            raise typer.Exit(1)
