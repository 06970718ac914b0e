"""Runtime actions for the playbooks: start, watch and stop runs through the orchestrator, list experiments."""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action

_RUN_ID = {"type": "string", "pattern": r"^(shadow|testnet|live)_\d{8}_\d{6}_[0-9a-f]{6}$"}
_START = {
    "type": "object", "additionalProperties": False, "required": ["mode"],
    "properties": {
        "mode": {"enum": ["shadow", "testnet", "live"]},
        "profile": {"type": "string", "minLength": 1},
        "strategy": {"type": "string", "minLength": 1},
        "symbol": {"type": "string", "pattern": "^[A-Z0-9]+/[A-Z0-9]+$"},
        "timeframe": {"type": "string", "pattern": "^[1-9][0-9]*[mhdw]$"},
        "notes": {"type": "string"},
        "wait": {"type": "boolean", "description": "for a finite profile: wait until the run ends"},
        "wait_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        "allow_duplicate": {"type": "boolean", "default": False,
                            "description": "start even if a session of this strategy, symbol and mode runs"},
    },
}


def _describe_start(args: dict[str, Any]) -> str:
    what = f"start a {args.get('mode')} run (profile {args.get('profile', 'standard')})"
    return what + (", wait for it to finish and report its figures" if args.get("wait") else "")


def _figures_line(fig: dict[str, Any]) -> str:
    return (f"{fig['bars']} bars, {fig['orders_filled']} fills, {fig['orders_blocked']} blocked, "
            f"{fig['orders_rejected']} rejected, equity {fig['final_equity']}, PnL {fig['pnl']}, "
            f"max drawdown {fig['max_drawdown_pct']}%")


@action("runs.start", schema=_START, effect="act", live_sensitive=True, describe=_describe_start, idempotent=True,
        description="Start a run through the orchestrator (own process); optionally wait for it. Live only in a "
                    "play whose frame bound a live_activation approval (the session re-verifies it).")
def runs_start(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.config import load_config
    from peaktrade.errors import BlockedError
    from peaktrade.ops.readiness import require_ready
    from peaktrade.runtime import runlog
    from peaktrade.runtime.duplicates import refuse_duplicate
    from peaktrade.runtime.experiments import key_figures
    from peaktrade.runtime.orchestrator import Orchestrator, check_mode
    from peaktrade.runtime.runner import LIVE_REFUSED, resolve_profile

    orch = Orchestrator(ctx.root, clock=ctx.clock)
    profile = args.get("profile", "standard")
    step_key = f"{(ctx.extra or {}).get('frame') or ctx.playbook}:{ctx.step_id}" if ctx.play_id else ""
    if ctx.play_id:  # this play step started a run before (a resume after a crash): report it, never a second
        earlier = orch.registry.find(play_id=ctx.play_id, step_key=step_key)
        if earlier is not None:
            ctx.echo(f"Run {earlier.run_id} was already started by this step ({earlier.status}): not started again")
            return ActionResult(earlier.status not in ("failed", "crashed", "killed", "lost"),
                                f"run {earlier.run_id} already started by this play step ({earlier.status}); "
                                "not started again", data={"run_id": earlier.run_id, "pid": earlier.pid,
                                                           "mode": earlier.mode, "status": earlier.status,
                                                           "reconciled": True})
    approval_id = ""
    if args["mode"] == "live":
        record = (ctx.approvals or {}).get("live_activation")
        approval_id = str(record.get("request_id")) if isinstance(record, dict) else str(
            getattr(record, "request_id", "") or "")
        if not (approval_id and ctx.play_id):  # only a play whose frame bound a live_activation approval
            raise BlockedError(LIVE_REFUSED)
    refuse_duplicate(ctx.root, mode=args["mode"], profile=profile, strategy=args.get("strategy"),
                     symbol=args.get("symbol"), allow=bool(args.get("allow_duplicate")), flag="allow_duplicate: true")
    check_mode(ctx.root, args["mode"])
    require_ready(ctx.root, args["mode"], clock=ctx.clock)  # seed 10a.7, before the run exists
    rec = orch.start(args["mode"], profile=profile, strategy=args.get("strategy"), symbol=args.get("symbol"),
                     timeframe=args.get("timeframe"), notes=args.get("notes", ""), operator=ctx.operator,
                     play_id=ctx.play_id or "", step_key=step_key, approval_id=approval_id)
    ctx.echo(f"Run started: {rec.run_id} ({rec.mode}, {rec.strategy} {rec.symbol} {rec.timeframe}, profile "
             f"{profile}, pid {rec.pid})")
    data: dict[str, Any] = {"run_id": rec.run_id, "pid": rec.pid, "mode": rec.mode, "profile": profile}
    finite = int(resolve_profile(load_config(ctx.root), profile).get("steps", 0) or 0) > 0
    if not (args.get("wait") and finite):
        return ActionResult(True, f"run {rec.run_id} started ({profile})", data={**data, "status": "running"})
    timeout = float(args.get("wait_timeout_s", 120))
    final = orch.wait(rec.run_id, timeout_s=timeout, poll_s=0.2)
    run_dir = runlog.run_dir(ctx.root, rec.run_id)
    fig = key_figures(run_dir, runlog.read_meta(run_dir))
    data.update(status=final.status, figures=fig)
    if final.active:
        return ActionResult(False, f"run {rec.run_id} still {final.status} after {timeout:g} s", data=data)
    output = f"Run {rec.run_id} {final.status}: {_figures_line(fig)}"
    if final.status != "completed":
        return ActionResult(False, f"run {rec.run_id} {final.status}: {final.status_note or 'see its session.log'}",
                            output=output, data=data)
    return ActionResult(True, f"run {rec.run_id} completed: {_figures_line(fig)}", output=output, data=data)


def _describe_stop(args: dict[str, Any]) -> str:
    if args.get("force"):
        return "SIGKILL every active run at once and mark it killed"
    return f"SIGTERM every active run, kill those still running after {args.get('timeout_s', 30)} s"


@action("runs.stop_all", effect="act", describe=_describe_stop,
        description="Stop every active run gracefully (SIGTERM; killed after the timeout), or force-kill them.",
        schema={"type": "object", "additionalProperties": False,
                "properties": {"timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                               "force": {"type": "boolean", "description": "SIGKILL at once (emergency)"}}})
def runs_stop_all(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime.orchestrator import Orchestrator

    orch = Orchestrator(ctx.root, clock=ctx.clock)
    if args.get("force"):
        return _force_kill(orch)
    results = orch.stop_all(timeout_s=float(args.get("timeout_s", 30)))
    lines = [f"{r.run_id}: {r.outcome} ({r.seconds:.1f} s)" + (f" on host {r.host}" if r.host else "")
             for r in results]
    data = {"runs": [r.__dict__ for r in results]}
    killed = [r.run_id for r in results if r.outcome == "killed"]
    if killed:
        return ActionResult(False, f"{len(killed)} of {len(results)} run(s) had to be killed: {', '.join(killed)}",
                            output="\n".join(lines), data=data)
    summary = f"{len(results)} run(s) stopped gracefully" if results else "no active runs"
    return ActionResult(True, summary, output="\n".join(lines), data=data)


def _force_kill(orch: Any) -> ActionResult:
    """Runbook 5.3 step 1. Works without the registry: the workers of this root are also found by their
    command lines, so a corrupt ``var/desk.sqlite`` never stops the emergency path."""
    report = orch.kill_all()
    # a run of another host is not killed from here: its agent gets a stop request (a desk on several hosts)
    lines = [f"{r.run_id}: {r.outcome}" + (f" (host {r.host}: its agent signals it)" if r.host else "")
             for r in report.results]
    lines += [f"NOT killed: {f}" for f in report.failed]
    data = {"runs": [r.__dict__ for r in report.results], "fallback": report.registry_error is not None,
            "registry_error": report.registry_error, "strays": report.strays, "failed": report.failed}
    n = sum(r.outcome == "killed" for r in report.results)
    remote = len(report.results) - n
    summary = f"{n} run(s) force-killed" if n else "no active runs" if not remote else "no run of this host"
    if remote:
        summary += f"; {remote} stop request(s) to other hosts' agents"
    if report.registry_error is not None:
        summary += (" (fallback: the run registry is unusable, so this root's workers were found by scanning "
                    "/proc for their command lines)")
        lines.append(f"registry: {report.registry_error}")
        lines += [f"afterwards: {d}" for d in report.registry_details]
    elif report.strays:
        summary += f" ({len(report.strays)} not in the registry, found by their command lines)"
    if report.failed:
        return ActionResult(False, f"{len(report.failed)} worker process(es) could not be killed; {summary}",
                            output="\n".join(lines), data=data)
    return ActionResult(True, summary, output="\n".join(lines), data=data)


@action("runs.status", effect="read", description="The runs in the registry and their states.",
        schema={"type": "object", "additionalProperties": False,
                "properties": {"run_id": _RUN_ID, "active_only": {"type": "boolean"},
                               "limit": {"type": "integer", "minimum": 1}}})
def runs_status(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime.orchestrator import Orchestrator

    recs = Orchestrator(ctx.root, clock=ctx.clock).status(args.get("run_id"), limit=args.get("limit", 20))
    if args.get("active_only"):
        recs = [r for r in recs if r.active]
    lines = [f"{r.run_id}  {r.mode:<8} {r.strategy:<14} {r.symbol:<9} {r.status:<10} {r.started_at or '-'}"
             for r in recs]
    active = sum(r.active for r in recs)
    return ActionResult(True, f"{len(recs)} run(s), {active} active", output="\n".join(lines),
                        data={"runs": [r.to_dict() for r in recs], "active": active})


@action("runs.follow_hint", effect="read", description="How to follow a run while it runs.",
        schema={"type": "object", "additionalProperties": False, "required": ["run_id"],
                "properties": {"run_id": _RUN_ID}})
def runs_follow_hint(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime import runlog

    rid = args["run_id"]
    status = runlog.read_meta(runlog.run_dir(ctx.root, rid)).get("status")
    if status in ("starting", "running", "stopping"):
        text = (f"Follow the run in a second terminal:\n  peaktrade monitor follow --run-id {rid}\n"
                f"  peaktrade runs tail --run-id {rid}\nStop it: peaktrade runs stop --run-id {rid}")
    else:  # a finite profile (quick_smoke) has ended already: there is nothing to stop
        text = (f"The run has ended ({status}); read it with:\n  peaktrade monitor run --run-id {rid}\n"
                f"  peaktrade runs tail --run-id {rid}")
    ctx.echo(text)
    how = "follow: peaktrade monitor follow" if status in ("starting", "running", "stopping") else \
        f"ended ({status}): peaktrade monitor run"
    return ActionResult(True, f"{how} --run-id {rid}", output=text, data={"run_id": rid, "status": status})


@action("experiments.list", effect="read", description="Recent runs with their key figures.",
        schema={"type": "object", "additionalProperties": False,
                "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 1000}}})
def experiments_list(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime.experiments import list_experiments

    rows = list_experiments(ctx.root, limit=args.get("limit", 10))
    lines = [f"{r['run_id']}  {r['status'] or '-':<10} bars {r['bars']:>5}  fills {r['orders_filled']:>4}  "
             f"equity {r['final_equity']}  PnL {r['pnl']}" for r in rows]
    return ActionResult(True, f"{len(rows)} run(s) listed", output="\n".join(lines), data={"runs": rows})


@action("runs.stop", effect="act", describe=lambda a: f"SIGTERM run {a.get('run_id')}, kill it after "
        f"{a.get('timeout_s', 30)} s", description="Stop one run gracefully (SIGTERM; killed after the timeout).",
        schema={"type": "object", "additionalProperties": False, "required": ["run_id"],
                "properties": {"run_id": _RUN_ID,
                               "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600}}})
def runs_stop(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime.orchestrator import Orchestrator

    res = Orchestrator(ctx.root, clock=ctx.clock).stop(args["run_id"], timeout_s=float(args.get("timeout_s", 30)))
    data = {"run": res.__dict__}
    if res.outcome == "killed":
        return ActionResult(False, f"{res.run_id} had to be killed after the timeout", data=data)
    return ActionResult(True, f"{res.run_id}: {res.outcome}", data=data)


# effect act: it writes a file. So a dry run only describes it, and while the kill switch is engaged
# it is refused like every act step outside the risk-reducing set (docs/design-decisions.md).
@action("experiments.export", effect="act", description="Export a run's events (PnL, equity, orders) as CSV.",
        describe=lambda a: f"write the events of run {a.get('run_id')} as CSV to "
                           f"{a.get('path') or 'reports/<run_id>_events.csv'}",
        schema={"type": "object", "additionalProperties": False, "required": ["run_id"],
                "properties": {"run_id": _RUN_ID,
                               "path": {"type": "string", "minLength": 1,
                                        "description": "CSV file below the deployment root, relative to it "
                                                       "(default reports/<run_id>_events.csv)"}}})
def experiments_export(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.fsutil import confined
    from peaktrade.runtime.experiments import export_csv

    # only below the deployment root: no absolute path, no '..', no symlink leading out
    path = confined(ctx.root.path, args.get("path") or f"reports/{args['run_id']}_events.csv", "path")
    rows = export_csv(ctx.root, args["run_id"], path)
    return ActionResult(True, f"{rows} events exported to {ctx.root.rel(path)}",
                        data={"path": ctx.root.rel(path), "rows": rows})


@action("runs.crashed", effect="read", description="Fail while a crashed or lost run is not acknowledged.",
        schema={"type": "object", "additionalProperties": False, "properties": {}})
def runs_crashed(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.monitor.crashed import describe, unacknowledged
    from peaktrade.runtime.orchestrator import Orchestrator
    from peaktrade.runtime.registry import RegistryUnavailable

    try:
        Orchestrator(ctx.root, clock=ctx.clock).reconcile()  # dead processes of active runs become crashed
    except RegistryUnavailable as exc:
        ctx.echo(f"  (run registry unusable: {exc.message}; crashed runs are read from their meta.json)")
    found = unacknowledged(ctx.root)
    data = {"run_ids": [m.get("run_id") for m in found]}
    if found:
        return ActionResult(False, f"{len(found)} crashed or lost run(s) not acknowledged: "
                                   f"{', '.join(str(m.get('run_id')) for m in found)}",
                            "\n".join(describe(m) for m in found), data)
    return ActionResult(True, "no crashed or lost run waits for acknowledgement", data=data)


@action("runs.expect_running", effect="read",
        description="A session of this mode runs (its process is alive and it left 'starting').",
        schema={"type": "object", "additionalProperties": False, "required": ["mode"], "properties": {
            "mode": {"enum": ["shadow", "testnet", "live"]},
            "within_s": {"type": "number", "minimum": 0, "maximum": 600, "default": 30}}})
def runs_expect_running(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime.orchestrator import Orchestrator

    orch = Orchestrator(ctx.root, clock=ctx.clock)
    deadline = ctx.clock.monotonic() + float(args.get("within_s", 30))
    while True:
        orch.reconcile()
        recs = [r for r in orch.registry.list(active_only=True) if r.mode == args["mode"]]
        running = [r for r in recs if r.status == "running"]
        if running or not recs or ctx.clock.monotonic() >= deadline:
            break
        ctx.clock.sleep(0.2)  # a session still starting: its worker records 'running' within a bar
    lines = [f"{r.run_id}  {r.strategy} {r.symbol} {r.timeframe}  {r.status}  pid {r.pid}" for r in recs]
    data = {"run_ids": [r.run_id for r in running]}
    if not running:
        return ActionResult(False, f"no {args['mode']} session is running"
                                   + (f" ({len(recs)} still {recs[0].status})" if recs else ""), "\n".join(lines), data)
    return ActionResult(True, f"{len(running)} {args['mode']} session(s) running: "
                              f"{', '.join(r.run_id for r in running)}", "\n".join(lines), data)



@action("runs.watch", effect="read",
        schema={"type": "object", "additionalProperties": False, "required": ["run_id"],
                "properties": {"run_id": _RUN_ID,
                               "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                                             "description": "how long to wait for the first order (default 120)"}}},
        description="Watch a run until its first order (filled, blocked or rejected) or the timeout; fails on "
                    "a rejected order, an exchange error or a run that ended badly")
def runs_watch(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.runtime import runlog
    from peaktrade.runtime.registry import open_registry

    run_id, timeout = args["run_id"], float(args.get("timeout_s", 120))
    run_dir = runlog.run_dir(ctx.root, run_id)
    registry = open_registry(ctx.root)
    waited = 0.0
    while True:
        events = runlog.read_events(run_dir) if run_dir.exists() else []
        orders = [e for e in events if e.get("orders_generated") or e.get("orders_filled")]
        rec = registry.get(run_id)
        if orders:
            first = orders[0]
            what = ("filled" if first.get("orders_filled") else "blocked" if first.get("orders_blocked")
                    else "rejected" if first.get("orders_rejected") else "sent")
            reasons = "; ".join(first.get("risk_reasons") or []) or first.get("error") or ""
            line = (f"first order of {run_id} at bar {first.get('step')}: {what}" + (f" ({reasons})" if reasons else "")
                    + f"; position {first.get('position')}, equity {first.get('equity')}")
            return ActionResult(what in ("filled", "blocked", "sent") and not first.get("error"), line,
                                data={"run_id": run_id, "first_order": what, "step": first.get("step")})
        if rec is None or not rec.active:
            status = rec.status if rec else "unknown to the desk"
            return ActionResult(status in ("completed", "stopped"), f"run {run_id} {status} before any order "
                                f"({len(events)} bar(s))", data={"run_id": run_id, "status": status})
        if waited >= timeout:
            return ActionResult(True, f"no order from {run_id} yet after {timeout:g} s ({len(events)} bar(s)); "
                                f"keep watching: peaktrade monitor follow --run-id {run_id}",
                                data={"run_id": run_id, "first_order": None})
        ctx.clock.sleep(0.5)
        waited += 0.5
