"""``peaktrade divergence --run-id ID``: run PnL vs backtest of the same window (runbook 9)."""

from __future__ import annotations

import typer

from peaktrade.cli import _common


def register(app: typer.Typer) -> None:
    @app.command("divergence")
    def divergence(
        run_id: str = typer.Option(..., "--run-id", help="The run to analyse."),
        threshold_pct: float = typer.Option(30.0, "--threshold-pct", help="Divergent above this many percent."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Compare the run's PnL with a backtest of its window; slippage, fee, data and signal analysis;
        a verdict with the likely cause. Exit 1 when divergent beyond the threshold."""
        from peaktrade.analysis.divergence import compare

        report = compare(_common.root(), run_id, threshold_pct=threshold_pct)
        if as_json:
            _common.print_json(report.to_dict())
        else:
            _print(report)
        if report.divergent:
            raise typer.Exit(1)


def _print(r) -> None:
    s, f, d, st = r.slippage, r.fees, r.data, r.strategy
    print(f"Run {r.run_id} ({r.run['mode']}), window {r.window['start']} .. {r.window['end']} {r.window['timeframe']}")
    print(f"  PnL run {r.run['pnl']:,.2f}, backtest {r.backtest['pnl']:,.2f} ({r.backtest['source']}): "
          f"divergence {r.divergence_pct:.1f} % (threshold {r.threshold_pct:g} %)")
    mean = "-" if s["mean_bps"] is None else f"{s['mean_bps']:.1f}"
    print(f"  slippage: {s['fills']} fill(s), mean {mean} bps (expected {s['expected_bps']:g}), cost {s['cost']:.2f}")
    print(f"  fees: run {f['run']:.2f}, backtest {f['backtest']:.2f} (rate {f['fee_rate']:g})")
    print(f"  data: {d['close_mismatches']} close mismatch(es), {len(d['gaps'])} gap(s), "
          f"{d['gap_events']} gap event(s)")
    print(f"  strategy: {st['signal_mismatches']} signal mismatch(es), trades {st['trades_run']} vs "
          f"{st['trades_backtest']}, blocked {st['orders_blocked']}, rejected {st['orders_rejected']}")
    if r.divergent:
        print(f"DIVERGENT: likely cause {r.cause}: {'; '.join(r.evidence)}")
    else:
        print("OK: run and backtest agree within the threshold")
