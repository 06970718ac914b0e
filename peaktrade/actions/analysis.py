"""Actions for runbooks 9, 10 and 10c: alert rules, backtest, divergence, data gaps and backfill.

Light at import: everything heavy is imported inside the action functions.
"""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action

_RUN_ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"}
_OPT_RUN_ID = {"type": "string", "pattern": r"^([A-Za-z0-9][A-Za-z0-9_.-]*)?$",
               "description": "a run id, or empty for none"}
_SYMBOL = {"type": "string", "pattern": r"^([A-Z0-9]+/[A-Z0-9]+)?$"}
_TIMEFRAME = {"type": "string", "pattern": r"^([1-9][0-9]*[smhdw])?$"}
_POS = {"type": "number", "exclusiveMinimum": 0}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required or [], "properties": props}


@action("alerts.run_rules", effect="read", description="Evaluate the alert rules (seed 10c) on a run and notify.",
        schema=_obj({"run_id": _RUN_ID, "pnl_drop_threshold_pct": _POS, "pnl_drop_window_hours": _POS,
                     "no_events_max_minutes": _POS, "error_spike_max_errors": {"type": "integer", "minimum": 0},
                     "error_spike_window_minutes": _POS,
                     "notify": {"type": "boolean", "description": "send to the channels (default true)"}},
                    ["run_id"]))
def alerts_run_rules(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.alerts.engine import run_rules
    from peaktrade.alerts.policy import load_alerts_policy, resolve_settings

    overrides = {k: args.get(k) for k in ("pnl_drop_threshold_pct", "pnl_drop_window_hours", "no_events_max_minutes",
                                          "error_spike_max_errors", "error_spike_window_minutes")}
    settings = resolve_settings(load_alerts_policy(ctx.root), **overrides)
    report = run_rules(ctx.root, args["run_id"], settings, ctx.clock,
                       notify=bool(args.get("notify", True)) and not ctx.dry_run)
    # notifications follow the desk's alert state (DESIGN 6): a play re-run on the same CRITICAL pages once
    lines = [f"{a.level:8} {a.rule}: {a.message} (playbook: {a.playbook})" if a.playbook else
             f"{a.level:8} {a.rule}: {a.message}" for a in report.alerts] or ["no alerts"]
    worst = "CRITICAL" if report.critical else ("WARNING" if report.alerts else "OK")
    return ActionResult(not report.critical, f"alerts on {args['run_id']}: {worst} ({len(report.alerts)} alert(s))",
                        output="\n".join(lines), data=report.to_dict())


@action("backtest.run", effect="read",
        description="Backtest the strategy over a run's window (run_id) or an explicit one.",
        schema=_obj({"run_id": _OPT_RUN_ID, "strategy": {"type": "string"}, "symbol": _SYMBOL,
                     "timeframe": _TIMEFRAME, "start": {"type": "string"}, "end": {"type": "string"}}))
def backtest_run(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.analysis.backtest import parse_time, run_backtest
    from peaktrade.config import load_config

    config = load_config(ctx.root)
    meta: dict[str, Any] = {}
    start, end = args.get("start"), args.get("end")
    if args.get("run_id"):
        from peaktrade.monitor.runs import read_meta, run_dir
        from peaktrade.runtime.runlog import read_events

        d = run_dir(ctx.root, args["run_id"])
        meta = read_meta(d)
        bars = [e for e in read_events(d) if e.get("kind") != "gap" and e.get("ts_bar")]
        if not bars:
            return ActionResult(False, f"run {args['run_id']} has no bar events: nothing to backtest")
        start, end = start or bars[0]["ts_bar"], end or bars[-1]["ts_bar"]
    if not (start and end):
        return ActionResult(False, "backtest needs run_id or start and end")
    def pick(key: str, default: str) -> str:
        return args.get(key) or meta.get(key) or config.get(f"session.{key}", default)

    res = run_backtest(ctx.root, config, strategy=pick("strategy", "ma_crossover"), symbol=pick("symbol", "BTC/EUR"),
                       timeframe=pick("timeframe", "1m"), start=parse_time(start, "start"),
                       end=parse_time(end, "end"))
    summary = (f"backtest {res.strategy} {res.symbol} {res.timeframe} {res.start}..{res.end}: {res.bars} bars, "
               f"{len(res.trades)} trades, PnL {res.pnl:.2f}")
    return ActionResult(True, summary, data=res.to_dict())


@action("divergence.compare", effect="read",
        description="Run PnL vs backtest of the same window, slippage/fee/data/signal analysis, verdict (runbook 9).",
        schema=_obj({"run_id": _RUN_ID, "threshold_pct": _POS,
                     "fail_when_divergent": {"type": "boolean", "description": "fail the step when divergent"}},
                    ["run_id"]))
def divergence_compare(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.analysis.divergence import compare

    r = compare(ctx.root, args["run_id"], threshold_pct=float(args.get("threshold_pct", 30.0)))
    verdict = f"DIVERGENT, likely cause {r.cause}" if r.divergent else "consistent"
    summary = (f"run PnL {r.run['pnl']:.2f} vs backtest {r.backtest['pnl']:.2f}: divergence "
               f"{r.divergence_pct:.1f} % (threshold {r.threshold_pct:g} %): {verdict}")
    ok = not (r.divergent and args.get("fail_when_divergent", False))
    return ActionResult(ok, summary, output="\n".join(r.evidence), data=r.to_dict())


@action("divergence.slippage", effect="read",
        description="Signal price vs fill price of every fill of a run (runbook 9, step 5).",
        schema=_obj({"run_id": _RUN_ID}, ["run_id"]))
def divergence_slippage(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.analysis.divergence import implied_fills
    from peaktrade.config import load_config
    from peaktrade.monitor.runs import read_meta, run_dir
    from peaktrade.runtime.runlog import read_events

    config = load_config(ctx.root)
    d = run_dir(ctx.root, args["run_id"])
    meta = read_meta(d)
    cash = ((meta.get("config") or {}).get("session") or {}).get("starting_cash",
                                                                  config.get("session.starting_cash", 10_000.0))
    fills = implied_fills(read_events(d), float(cash), float(config.get("session.fee_rate", 0.0026)))
    lines = [f"{f['ts_bar']} {f['side']:4} {f['quantity']:.8f} signal {f['signal_price']:.2f} fill "
             f"{f['fill_price']:.2f} slippage {f['slippage_bps']:.1f} bps fee {f['fee']:.4f}" for f in fills]
    mean = sum(f["slippage_bps"] for f in fills) / len(fills) if fills else 0.0
    expected = float(config.get("session.slippage_bps", 5.0))
    return ActionResult(True, f"{len(fills)} fill(s), mean slippage {mean:.1f} bps (modelled {expected:g} bps)",
                        output="\n".join(lines[-50:]),
                        data={"fills": fills, "mean_bps": mean, "expected_bps": expected})


@action("data.find_gaps", effect="read",
        description="Gaps in cached OHLCV under data/ or in a run's bar events (runbook 10).",
        schema=_obj({"run_id": _OPT_RUN_ID, "symbol": _SYMBOL, "timeframe": _TIMEFRAME,
                     "fail_on_gaps": {"type": "boolean", "description": "fail the step when gaps are found"}}))
def data_find_gaps(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.analysis.datagaps import gap_report
    from peaktrade.errors import UsageError

    try:
        r = gap_report(ctx.root, symbol=args.get("symbol") or None, timeframe=args.get("timeframe") or None,
                       run_id=args.get("run_id") or None)
    except UsageError as exc:  # e.g. nothing cached yet: a finding of this step, not a crash
        return ActionResult(False, exc.message)
    lines = [f"GAP after {g['from']}, before {g['to']}: {g['missing']} candle(s) missing" for g in r["gaps"]]
    if r["gap_events"]:
        lines.append(f"the session logged {r['gap_events']} gap event(s)")
    found = bool(r["gaps"] or r["gap_events"])
    summary = (f"{r['source']}: {len(r['gaps'])} gap(s), {r['missing']} candle(s) missing; last candle {r['last']}"
               if found else f"{r['source']}: no gaps ({r['candles']} candles, last {r['last']})")
    return ActionResult(not (found and args.get("fail_on_gaps", False)), summary, output="\n".join(lines), data=r)


def _describe_backfill(args: dict[str, Any]) -> str:
    return (f"fetch {args.get('symbol') or '[session] symbol'} {args.get('timeframe') or '[session] timeframe'} "
            f"candles {args.get('start') or '24 h back'} .. {args.get('end') or 'now'} into data/")


@action("data.backfill", effect="act", describe=_describe_backfill,
        description="Fetch candles from the configured exchange into data/ (merged atomically).",
        schema=_obj({"symbol": _SYMBOL, "timeframe": _TIMEFRAME, "start": {"type": "string"},
                     "end": {"type": "string"}}))
def data_backfill(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.analysis.datagaps import backfill

    r = backfill(ctx.root, symbol=args.get("symbol") or None, timeframe=args.get("timeframe") or None,
                 start=args.get("start") or None, end=args.get("end") or None, clock=ctx.clock)
    summary = (f"{r['path']}: fetched {r['fetched']}, new {r['added']}, {r['candles']} candle(s) "
               f"{r['start']}..{r['end']}, {len(r['gaps'])} gap(s) left")
    return ActionResult(not r["gaps"], summary, data=r)
