"""``peaktrade backtest``: the strategy over a window of the run's price source (runbook 9, step 3)."""

from __future__ import annotations

import typer

from peaktrade.cli import _common


def register(app: typer.Typer) -> None:
    @app.command("backtest")
    def backtest(
        strategy: str = typer.Option(None, "--strategy", help="Strategy (default: [session] strategy)."),
        symbol: str = typer.Option(None, "--symbol", help="Market, e.g. BTC/EUR (default: [session] symbol)."),
        timeframe: str = typer.Option(None, "--timeframe", help="Bar size, e.g. 1m (default: [session] timeframe)."),
        start: str = typer.Option(..., "--start", help="First bar, ISO-8601 UTC (e.g. 2025-12-07T12:00:00Z)."),
        end: str = typer.Option(..., "--end", help="Last bar, ISO-8601 UTC."),
        curve: bool = typer.Option(False, "--curve", help="Include the per-bar equity curve in --json."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Replay the strategy with the session's fee and slippage model over closed candles from
        data/ (when cached without gaps) or the configured exchange (the dummy one is offline)."""
        from peaktrade.analysis.backtest import parse_time, run_backtest
        from peaktrade.config import load_config

        root = _common.root()
        config = load_config(root)
        res = run_backtest(root, config, strategy=strategy or config.get("session.strategy", "ma_crossover"),
                           symbol=symbol or config.get("session.symbol", "BTC/EUR"),
                           timeframe=timeframe or config.get("session.timeframe", "1m"),
                           start=parse_time(start, "--start"), end=parse_time(end, "--end"))
        if as_json:
            _common.print_json(res.to_dict(curve=curve))
            return
        d = res.to_dict()
        print(f"Backtest {res.strategy} {res.symbol} {res.timeframe} {res.start} .. {res.end} ({res.source})")
        print(f"  bars {res.bars}, trades {len(res.trades)}, fees {res.fees:.2f} "
              f"(fee rate {res.fee_rate:g}, slippage {res.slippage_bps:g} bps)")
        print(f"  equity {res.starting_cash:,.2f} -> {res.final_equity:,.2f}: PnL {res.pnl:,.2f} "
              f"({d['return_pct']:.3f} %), max drawdown {res.max_drawdown * 100:.2f} %")
