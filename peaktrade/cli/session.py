"""``peaktrade session run --mode shadow|testnet [--profile P] [--steps N]`` (seed run_testnet_session)."""

from __future__ import annotations

import typer

session_app = typer.Typer(help="Run a trading session in the foreground.", no_args_is_help=True)


@session_app.command("run")
def run(mode: str = typer.Option(..., "--mode", help="shadow | testnet (live is refused)."),
        profile: str = typer.Option("quick_smoke", "--profile", help="Session profile from [session.profiles]."),
        steps: int = typer.Option(None, "--steps", help="Bars to run (0 = until Ctrl-C; default: the profile's)."),
        strategy: str = typer.Option(None, "--strategy", help="Strategy (default: [session] strategy)."),
        symbol: str = typer.Option(None, "--symbol", help="Market (default: [session] symbol)."),
        timeframe: str = typer.Option(None, "--timeframe", help="Bar size (default: [session] timeframe)."),
        notes: str = typer.Option("", "--notes", help="Free text stored with the run."),
        skip_live_risk: bool = typer.Option(False, "--skip-live-risk",
                                            help="shadow/testnet only: do not enforce risk limits (logged loudly)."),
        as_json: bool = typer.Option(False, "--json", help="Print the run's key figures as JSON at the end.")) -> None:
    """Run a session in this process; Ctrl-C or SIGTERM ends it gracefully after the current bar."""
    import getpass
    import signal
    import threading

    from peaktrade.cli import _common
    from peaktrade.runtime import runlog
    from peaktrade.runtime.experiments import key_figures
    from peaktrade.runtime.runner import execute_run, prepare_run

    root = _common.root()
    rec = prepare_run(root, mode=mode, profile=profile, strategy=strategy, symbol=symbol, timeframe=timeframe,
                      steps=steps, notes=notes, skip_live_risk=skip_live_risk, operator=getpass.getuser())
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(f"Session {rec.run_id} ({mode}, profile {profile}) — Ctrl-C stops it after the current bar")
        result = execute_run(root, rec.run_id, stop=stop, console=not as_json)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    run_dir = runlog.run_dir(root, rec.run_id)
    figures = {"run_id": rec.run_id, "status": result.status, "error": result.error,
               **key_figures(run_dir, runlog.read_meta(run_dir))}
    if as_json:
        _common.print_json(figures)
    else:
        print(f"Session {result.status}: {rec.run_id}: {figures['bars']} bars, {figures['orders_filled']} fills, "
              f"{figures['orders_blocked']} blocked, equity {figures['final_equity']}, PnL {figures['pnl']}")
        if result.error:
            print(f"Error: {result.error}")
    if result.status == "failed":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(session_app, name="session")
