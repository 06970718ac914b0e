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
    """Run a session in this process; Ctrl-C or SIGTERM ends it gracefully after the current bar.

    The mode must match environment.mode like for the orchestrator's runs (exit 3). Exit codes: 0 the
    session completed or was stopped by SIGTERM, 1 it failed, 130 it was interrupted with Ctrl-C (SIGINT)
    — after the same graceful end (step finished, log closed, ended_at, 'Shutdown complete').
    """
    import getpass
    import signal
    import sys
    import threading

    from peaktrade.cli import _common
    from peaktrade.desk.backend import cluster_url, host_id
    from peaktrade.errors import ExitCode
    from peaktrade.runtime import runlog
    from peaktrade.runtime.experiments import key_figures
    from peaktrade.runtime.orchestrator import check_mode
    from peaktrade.runtime.runner import execute_run, prepare_run

    root = _common.root()
    if mode == "live":  # from the command line never: a live session starts only in a play whose gate is open
        from peaktrade.errors import BlockedError
        from peaktrade.runtime.runner import LIVE_REFUSED

        raise BlockedError(LIVE_REFUSED)
    check_mode(root, mode)  # the orchestrator's rule: shadow needs paper, testnet needs testnet
    # on a desk on several hosts a foreground session is this host's run: its agent copies its log when it
    # closes, and it becomes lost with the host (an embedded, one-host desk records no host)
    here = host_id(root) if cluster_url(root) else ""
    rec = prepare_run(root, mode=mode, profile=profile, strategy=strategy, symbol=symbol, timeframe=timeframe,
                      steps=steps, notes=notes, skip_live_risk=skip_live_risk, operator=getpass.getuser(), host=here)
    stop = threading.Event()
    received: list[int] = []

    def _request_stop(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, _request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if not as_json:  # --json: stdout carries the JSON document only
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
    if signal.SIGINT in received:
        print("peaktrade: interrupted (the session ended gracefully)", file=sys.stderr)
        raise typer.Exit(ExitCode.INTERRUPTED)


def register(app: typer.Typer) -> None:
    app.add_typer(session_app, name="session")
