"""``peaktrade runs start-shadow|start-testnet|status|stop|tail`` (seed 10a, the orchestrator)."""

from __future__ import annotations

import typer

runs_app = typer.Typer(help="Start, watch and stop shadow/testnet runs (each its own process).",
                       no_args_is_help=True)

FOLLOW_HINT = "Follow it: peaktrade monitor follow --run-id {id}   or   peaktrade runs tail --run-id {id}"


def _start(mode: str, strategy: str | None, symbol: str | None, timeframe: str | None, notes: str,
           profile: str, steps: int | None, skip_live_risk: bool, as_json: bool, allow_duplicate: bool = False,
           host: str | None = None) -> None:
    import getpass

    from peaktrade.cli import _common
    from peaktrade.runtime.duplicates import refuse_duplicate
    from peaktrade.runtime.orchestrator import Orchestrator, check_mode

    root = _common.root()
    twins = refuse_duplicate(root, mode=mode, profile=profile, strategy=strategy, symbol=symbol,
                             allow=allow_duplicate)
    from peaktrade.ops.readiness import require_ready

    check_mode(root, mode)
    require_ready(root, mode)  # seed 10a.7: the stage's readiness check before any run starts
    orch = Orchestrator(root)
    rec = orch.start(mode, profile=profile, strategy=strategy, symbol=symbol, timeframe=timeframe, steps=steps,
                     notes=notes, skip_live_risk=skip_live_risk, operator=getpass.getuser(), host=host)
    if as_json:
        _common.print_json(rec.to_dict())
        return
    if rec.pid is None and orch.cluster:  # a desk on several hosts: an agent starts it
        print(f"✅ {mode.capitalize()} run queued: {rec.run_id} (for {('host ' + host) if host else 'any host'}; "
              "its agent starts it)")
        print("   " + FOLLOW_HINT.format(id=rec.run_id))
        return
    print(f"✅ {mode.capitalize()} run started: {rec.run_id}")
    print(f"   Strategy: {rec.strategy}\n   Symbol: {rec.symbol}\n   Timeframe: {rec.timeframe}")
    print(f"   Profile: {rec.profile}\n   PID: {rec.pid}")
    print("   " + FOLLOW_HINT.format(id=rec.run_id))
    if twins:
        print(f"   Note: --allow-duplicate: also running: {', '.join(t.run_id for t in twins)}")


def _opts():
    return dict(
        strategy=typer.Option(None, "--strategy", help="Strategy (default: [session] strategy)."),
        symbol=typer.Option(None, "--symbol", help="Market, e.g. BTC/EUR (default: [session] symbol)."),
        timeframe=typer.Option(None, "--timeframe", help="Bar size, e.g. 1m (default: [session] timeframe)."),
        notes=typer.Option("", "--notes", help="Free text stored with the run."),
        profile=typer.Option("standard", "--profile", help="Session profile from [session.profiles]."),
        steps=typer.Option(None, "--steps", help="Bars to run (0 = until stopped; default: the profile's)."),
        skip_live_risk=typer.Option(False, "--skip-live-risk", help="Do not enforce risk limits (logged loudly)."),
        as_json=typer.Option(False, "--json", help="Machine-readable output."),
        allow_duplicate=typer.Option(False, "--allow-duplicate",
                                     help="Start even if a session of this strategy, symbol and mode runs."),
        host=typer.Option(None, "--host", help="A desk on several hosts: run it on host H (default: any agent)."),
    )


_O = _opts()


@runs_app.command("start-shadow")
def start_shadow(strategy: str = _O["strategy"], symbol: str = _O["symbol"], timeframe: str = _O["timeframe"],
                 notes: str = _O["notes"], profile: str = _O["profile"], steps: int = _O["steps"],
                 skip_live_risk: bool = _O["skip_live_risk"], as_json: bool = _O["as_json"],
                 allow_duplicate: bool = _O["allow_duplicate"], host: str = _O["host"]) -> None:
    """Readiness checks (environment.mode = paper), then start a shadow run; prints its run id. A second
    session of the same strategy, symbol and mode is refused (exit 3) unless --allow-duplicate."""
    _start("shadow", strategy, symbol, timeframe, notes, profile, steps, skip_live_risk, as_json, allow_duplicate,
           host)


@runs_app.command("start-testnet")
def start_testnet(strategy: str = _O["strategy"], symbol: str = _O["symbol"], timeframe: str = _O["timeframe"],
                  notes: str = _O["notes"], profile: str = _O["profile"], steps: int = _O["steps"],
                  skip_live_risk: bool = _O["skip_live_risk"], as_json: bool = _O["as_json"],
                  allow_duplicate: bool = _O["allow_duplicate"], host: str = _O["host"]) -> None:
    """Readiness checks (environment.mode = testnet), then start a testnet run; prints its run id. A second
    session of the same strategy, symbol and mode is refused (exit 3) unless --allow-duplicate."""
    _start("testnet", strategy, symbol, timeframe, notes, profile, steps, skip_live_risk, as_json, allow_duplicate,
           host)


@runs_app.command("status")
def status(run_id: str = typer.Option(None, "--run-id", help="One run in detail."),
           limit: int = typer.Option(50, "--limit", min=1, help="Newest N runs."),
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Runs in the registry with their state (dead processes are marked crashed first)."""
    from peaktrade.cli import _common
    from peaktrade.runtime.orchestrator import Orchestrator

    recs = Orchestrator(_common.root()).status(run_id, limit=limit)
    if as_json:
        _common.print_json([r.to_dict() for r in recs] if run_id is None else recs[0].to_dict())
        return
    if run_id is not None:
        r = recs[0]
        for label, value in (("Run-ID", r.run_id), ("Mode", r.mode), ("Strategy", r.strategy), ("Symbol", r.symbol),
                             ("Timeframe", r.timeframe), ("Profile", r.profile), ("State", r.status),
                             ("Host", r.host), ("PID", r.pid), ("Started", r.started_at), ("Ended", r.ended_at),
                             ("Notes", r.notes), ("Note", r.status_note)):
            if value not in (None, ""):
                print(f"{label}: {value}")
        return
    if not recs:
        print("No runs yet (start one: peaktrade runs start-testnet --strategy ma_crossover --symbol BTC/EUR "
              "--timeframe 1m)")
        return
    hosts = any(r.host for r in recs)  # a desk on several hosts: which host each run is on
    # Started holds a timestamp with microseconds (27 characters): the host column starts after it
    print(f"{'Run-ID':<34}{'Mode':<9}{'Strategy':<15}{'Symbol':<10}{'State':<11}{'Started':<29}"
          + ("Host" if hosts else ""))
    print("-" * (120 if hosts else 108))
    for r in recs:
        print(f"{r.run_id:<34}{r.mode:<9}{r.strategy:<15}{r.symbol:<10}{r.status:<11}{r.started_at or '-':<29}"
              + ((r.host or "-") if hosts else ""))


@runs_app.command("stop")
def stop(run_id: str = typer.Option(None, "--run-id", help="The run to stop."),
         all_runs: bool = typer.Option(False, "--all", help="Stop every active run."),
         timeout: float = typer.Option(30.0, "--timeout", help="Seconds before a run is killed."),
         as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """SIGTERM: the run finishes its bar, closes its log and ends; killed after --timeout seconds."""
    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.runtime.orchestrator import Orchestrator

    if (run_id is None) == (not all_runs):
        raise UsageError("give exactly one of --run-id ID or --all")
    orch = Orchestrator(_common.root())
    results = orch.stop_all(timeout_s=timeout) if all_runs else [orch.stop(run_id, timeout_s=timeout)]
    if as_json:
        _common.print_json([r.__dict__ for r in results])
    else:
        for r in results:
            mark = "⚠️ " if r.outcome == "killed" else "✅"
            print(f"{mark} Run {r.outcome}: {r.run_id}" + (f" on host {r.host}" if r.host else "")
                  + (f" ({r.seconds:.1f} s)" if r.seconds else ""))
        if all_runs:
            print(f"✅ {sum(r.outcome != 'not running' for r in results)} run(s) stopped")
    if any(r.outcome == "killed" for r in results):
        raise typer.Exit(1)


@runs_app.command("tail")
def tail(run_id: str = typer.Option(..., "--run-id", help="The run."),
         limit: int = typer.Option(20, "--limit", min=1, help="Number of events."),
         as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The last events of a run."""
    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.runtime import runlog

    run_dir = runlog.run_dir(_common.root(), run_id)
    if not (run_dir / runlog.META_FILE).is_file():
        raise UsageError(f"unknown run id {run_id!r} (see 'peaktrade runs status')")
    events = runlog.tail_events(run_dir, max(limit, 0))
    if as_json:
        _common.print_json(events)
        return
    print(f"Last {len(events)} events of run {run_id}")
    print("-" * 100)
    for e in events:
        if e.get("kind") == "gap":
            print(f"Step {e['step']} | {e['ts_bar']} | GAP: {e.get('error')}")
            continue
        orders = f"{e['orders_generated']}/{e['orders_filled']}/{e['orders_rejected']}/{e['orders_blocked']}"
        line = (f"Step {e['step']} | {e['ts_bar']} | Signal: {e['signal']} | Price: {e['price']:.2f} | "
                f"Pos: {e['position']:.6f} | Equity: {e['equity']:.2f} | Orders g/f/r/b: {orders}")
        if e.get("risk_allowed") is False:
            line += f" | BLOCKED: {'; '.join(e.get('risk_reasons') or [])}"
        if e.get("error"):
            line += f" | ERROR: {e['error']}"
        print(line)


@runs_app.command("ack")
def ack(run_id: str = typer.Option(..., "--run-id", help="The crashed, lost, failed or killed run."),
        note: str = typer.Option(..., "--note", help="What you found (why nothing more is needed, or an incident id)."),
        operator: str = typer.Option(None, "--operator", help="Who (default: $PEAKTRADE_OPERATOR or the login)."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Acknowledge a crashed or lost run: the monitor overview stops showing it by default, run_crashed stops
    firing, the health check passes it. Stored in live_runs/<run_id>/ack.json; on a desk on several hosts also in
    the desk state, so a run lost with its host is acknowledged from any host (its shared alert resolves)."""
    from peaktrade.cli import _common
    from peaktrade.clock import SYSTEM_CLOCK, utc_iso
    from peaktrade.monitor.crashed import acknowledge
    from peaktrade.oplog import append_operation
    from peaktrade.playbook.interpreter import resolve_operator

    root = _common.root()
    who = resolve_operator(operator)
    done = acknowledge(root, run_id, by=who, note=note, at=utc_iso(SYSTEM_CLOCK.now()))
    append_operation(root, operator=who, what=f"runs ack {run_id}", outcome="acknowledged", reason=done["note"])
    if as_json:
        _common.print_json(done)
        return
    print(f"acknowledged: run {run_id} ({done['status']}) by {who}: {done['note']}")


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
