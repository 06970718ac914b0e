"""``peaktrade experiments list [--limit N] [--json] [--run-id ID --export-csv PATH]``."""

from __future__ import annotations

import typer

experiments_app = typer.Typer(help="Every run with its key figures; CSV export of a run's events.",
                              no_args_is_help=True)


@experiments_app.command("list")
def list_(limit: int = typer.Option(20, "--limit", min=0, help="Newest N runs (0 = all)."),
          run_id: str = typer.Option(None, "--run-id", help="Only this run (with --export-csv: export it)."),
          export_csv: str = typer.Option(None, "--export-csv", metavar="PATH", help="Write the run's events as CSV."),
          as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Runs newest first: mode, strategy, symbol, status, bars, fills, blocked, equity, PnL, return, drawdown.

    On a desk on several hosts the other hosts' runs too, with their host: a closed run's figures and its CSV
    from its copy in object storage, verified against the desk state (exit 1 when it cannot be verified)."""
    from pathlib import Path

    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.runtime import experiments

    root = _common.root()
    if export_csv is not None:
        if run_id is None:
            raise UsageError("--export-csv needs --run-id ID")
        n = experiments.export_csv(root, run_id, Path(export_csv))
        print(f"✅ {n} events of {run_id} written to {export_csv}")
        return
    rows = experiments.list_experiments(root, limit=limit or None, run_id=run_id)
    if run_id is not None and not rows:
        raise UsageError(f"unknown run id {run_id!r} (see 'peaktrade experiments list')")
    if as_json:
        _common.print_json(rows)
        return
    if not rows:
        print("No runs yet.")
        return
    hosts = any(r["host"] for r in rows)  # a desk on several hosts: which host each run is on
    print(f"{'Run-ID':<34}{'Mode':<9}{'Strategy':<14}{'Symbol':<10}{'Status':<11}{'Bars':>6}{'Fills':>6}"
          f"{'Blocked':>8}{'Equity':>12}{'PnL':>10}{'Return%':>9}{'MaxDD%':>9}" + ("  Host" if hosts else ""))
    print("-" * (150 if hosts else 138))
    for r in rows:
        # another host's run still active, or not copied yet: its record, no figures
        print(f"{r['run_id']:<34}{r['mode']:<9}{r['strategy']:<14}{r.get('symbol') or '-':<10}"
              f"{r['status'] or '-':<11}{_f(r['bars'], 6, 0)}"
              f"{_f(r['orders_filled'], 6, 0)}{_f(r['orders_blocked'], 8, 0)}{_f(r['final_equity'], 12)}"
              f"{_f(r['pnl'], 10)}{_f(r['return_pct'], 9, 3)}{_f(r['max_drawdown_pct'], 9, 3)}"
              + (f"  {r['host'] or '-'}" if hosts else ""))


def _f(value: float | None, width: int, digits: int = 2) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def register(app: typer.Typer) -> None:
    app.add_typer(experiments_app, name="experiments")
