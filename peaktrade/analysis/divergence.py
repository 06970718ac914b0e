"""Runbook 9: a run's PnL against the backtest of the same window, with the evidence for the cause.

- divergence % = |run PnL − backtest PnL| / max(|backtest PnL|, 0.1 % of the starting cash) × 100
  (the floor keeps a run that made 0.02 instead of 0.01 from reading as "100 % divergent");
- slippage: each fill's price is recovered from the book change (Δcash, Δposition, Δrealized PnL; see
  ``implied_fills``) and compared with the bar's signal price, in bps against us;
- fees: the run's fees (and the fee rate they imply) against the backtest's;
- data: bar closes of the run against the reference candles, missing bars and logged gap events;
- strategy: bars where the run's signal differs from the backtest's, and blocked orders.
The verdict names the most likely cause: data, then slippage, then fee, else strategy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError

if TYPE_CHECKING:
    from peaktrade.root import Root

CAUSES = ("data", "slippage", "fee", "strategy")


@dataclass
class DivergenceReport:
    run_id: str
    threshold_pct: float
    window: dict[str, Any]
    run: dict[str, Any]
    backtest: dict[str, Any]
    divergence_pct: float
    divergent: bool
    slippage: dict[str, Any]
    fees: dict[str, Any]
    data: dict[str, Any]
    strategy: dict[str, Any]
    cause: str | None
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def implied_fills(events: list[dict[str, Any]], starting_cash: float, fee_rate: float) -> list[dict[str, Any]]:
    """Fills recovered from consecutive book states (the event log has no fill price of its own).

    A fill that opens or adds to a position books exactly its fee as realized PnL, so there fee and
    price are both exact: fee = −Δrealized, fill = (−Δcash − fee) / Δposition. A reducing fill mixes
    fee and closing PnL; its fee is estimated with the fee rate observed on the opening fills so far
    (``fee_rate`` until there is one).
    """
    fills, pos, cash, realized = [], 0.0, starting_cash, 0.0
    observed: list[float] = []
    for e in events:
        p, c, r = _num(e.get("position")), _num(e.get("cash")), _num(e.get("realized_pnl"))
        if p is None or c is None:
            continue
        dq, dc, dr = p - pos, c - cash, (r - realized) if r is not None else None
        opening = abs(p) > abs(pos) and (pos == 0 or (p > 0) == (pos > 0))
        pos, cash, realized = p, c, (r if r is not None else realized)
        price = _num(e.get("price")) or _num(e.get("close"))
        if not (e.get("orders_filled") or 0) or abs(dq) < 1e-12 or not price:
            continue
        sign = 1.0 if dq > 0 else -1.0
        if opening and dr is not None and dr <= 0:
            fee = -dr
            fill = (-dc - fee) / dq
            if fill > 0:
                observed.append(fee / (abs(dq) * fill))
        else:
            rate = sum(observed) / len(observed) if observed else fee_rate
            fill = -dc / (dq * (1 + sign * rate))
            fee = abs(dq) * fill * rate
        if fill <= 0:
            continue
        fills.append({"step": e.get("step"), "ts_bar": e.get("ts_bar"), "side": "buy" if sign > 0 else "sell",
                      "quantity": abs(dq), "signal_price": price, "fill_price": fill,
                      "slippage_bps": (fill / price - 1) * 10_000 * sign, "fee": fee,
                      "fee_rate": fee / (abs(dq) * fill), "slippage_cost": abs(dq) * (fill - price) * sign})
    return fills


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def compare(root: Root, run_id: str, *, threshold_pct: float = 30.0) -> DivergenceReport:
    from peaktrade.analysis.backtest import parse_time, run_backtest
    from peaktrade.analysis.ohlcv import find_gaps, tf_ms
    from peaktrade.config import load_config
    from peaktrade.monitor.runs import read_meta, run_dir
    from peaktrade.runtime.runlog import read_events

    if not threshold_pct > 0:
        raise UsageError(f"--threshold-pct must be positive, not {threshold_pct}")
    d = run_dir(root, run_id)
    meta = read_meta(d)
    events = read_events(d)
    bars = [e for e in events if e.get("kind") != "gap" and e.get("ts_bar")]
    if not bars:
        raise UsageError(f"run {run_id} has no bar events yet: nothing to compare")
    config = load_config(root)  # the deployment's current model of fees and slippage: the expectation
    timeframe = meta.get("timeframe") or config.get("session.timeframe", "1m")
    bt = run_backtest(root, config, strategy=meta.get("strategy") or "ma_crossover",
                      symbol=meta.get("symbol") or "BTC/EUR", timeframe=timeframe,
                      start=parse_time(bars[0]["ts_bar"], "ts_bar"), end=parse_time(bars[-1]["ts_bar"], "ts_bar"))
    snapshot = (meta.get("config") or {}).get("session") or {}
    start_cash = float(snapshot.get("starting_cash", bt.starting_cash))
    run_equity = _num(bars[-1].get("equity")) or start_cash
    run_pnl, bt_pnl = run_equity - start_cash, bt.pnl
    base = max(abs(bt_pnl), 0.001 * start_cash)
    divergence = abs(run_pnl - bt_pnl) / base * 100
    fills = implied_fills(bars, start_cash, bt.fee_rate)
    slips = [f["slippage_bps"] for f in fills]
    slippage = {"fills": len(fills), "expected_bps": bt.slippage_bps,
                "mean_bps": sum(slips) / len(slips) if slips else None, "max_bps": max(slips) if slips else None,
                "cost": sum(f["slippage_cost"] for f in fills),
                "backtest_cost": sum(t["quantity"] * abs(t["fill_price"] - t["signal_price"]) for t in bt.trades),
                "worst": sorted(fills, key=lambda f: -f["slippage_bps"])[:5]}
    rates = [f["fee_rate"] for f in fills]
    fees = {"fee_rate": bt.fee_rate, "observed_fee_rate": sum(rates) / len(rates) if rates else None,
            "run": sum(f["fee"] for f in fills), "backtest": bt.fees}
    ref = {c["ts_bar"]: c for c in bt.curve}
    mismatched = [b["ts_bar"] for b in bars if b["ts_bar"] in ref and _num(b.get("close")) is not None
                  and abs(float(b["close"]) - ref[b["ts_bar"]]["close"]) > 1e-9 * abs(ref[b["ts_bar"]]["close"])]
    bar_ms = [int(parse_time(b["ts_bar"], "ts_bar").timestamp() * 1000) for b in bars]
    gaps = find_gaps(bar_ms, tf_ms(timeframe))
    data = {"bars_run": len(bars), "bars_backtest": bt.bars, "close_mismatches": len(mismatched),
            "first_mismatches": mismatched[:5], "gaps": [g.to_dict() for g in gaps],
            "gap_events": sum(1 for e in events if e.get("kind") == "gap")}
    signal_diff = [b["ts_bar"] for b in bars if b["ts_bar"] in ref and b.get("signal") != ref[b["ts_bar"]]["signal"]]
    strategy = {"signal_mismatches": len(signal_diff), "first_signal_mismatches": signal_diff[:5],
                "trades_run": len(fills), "trades_backtest": len(bt.trades),
                "orders_blocked": sum(int(e.get("orders_blocked") or 0) for e in bars),
                "orders_rejected": sum(int(e.get("orders_rejected") or 0) for e in bars)}
    report = DivergenceReport(
        run_id, threshold_pct, {"start": bt.start, "end": bt.end, "timeframe": timeframe},
        {"pnl": run_pnl, "equity": run_equity, "starting_cash": start_cash, "mode": meta.get("mode")},
        bt.to_dict(), divergence, divergence > threshold_pct, slippage, fees, data, strategy, None)
    if report.divergent:
        report.cause, report.evidence = _decide(report, run_pnl - bt_pnl)
    return report


def _decide(r: DivergenceReport, gap: float) -> tuple[str, list[str]]:
    """The most likely cause, in the runbook's order of diagnosis, with the facts behind it."""
    need = abs(gap) / 2  # a cause must explain at least half of the PnL difference
    d, s, f, st = r.data, r.slippage, r.fees, r.strategy
    if d["close_mismatches"] or d["gaps"] or d["gap_events"]:
        return "data", [f"{d['close_mismatches']} bar close(s) differ from the reference candles, "
                        f"{len(d['gaps'])} gap(s) in the run's bars, {d['gap_events']} gap event(s) logged"]
    extra_slip = s["cost"] - s["backtest_cost"]
    if s["fills"] and (extra_slip >= need or (s["mean_bps"] or 0) > 1.5 * max(s["expected_bps"], 1.0)):
        return "slippage", [f"mean slippage {s['mean_bps']:.1f} bps vs {s['expected_bps']:g} bps expected over "
                            f"{s['fills']} fill(s); extra cost {extra_slip:.2f} of a PnL gap of {gap:.2f}"]
    extra_fee = f["run"] - f["backtest"]
    if extra_fee >= need or (f["observed_fee_rate"] or 0) > 1.5 * f["fee_rate"]:
        return "fee", [f"fees {f['run']:.2f} in the run vs {f['backtest']:.2f} in the backtest (observed fee rate "
                       f"{f['observed_fee_rate'] or 0:.4g} vs {f['fee_rate']:g} modelled) of a PnL gap of {gap:.2f}"]
    return "strategy", [f"{st['signal_mismatches']} bar(s) with a different signal, trades {st['trades_run']} "
                        f"(run) vs {st['trades_backtest']} (backtest), {st['orders_blocked']} order(s) blocked, "
                        f"{st['orders_rejected']} rejected"]
