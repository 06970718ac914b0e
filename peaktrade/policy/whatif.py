"""`peaktrade risk check`: a what-if decision against the portfolio as it stands now.

The portfolio is the state of the latest run's last event (its symbol's position at the event's
price, its cash and equity); the day's start equity is the equity of that run's first event in the
current trading day. Without run logs it is an empty portfolio holding the session's starting cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.policy.daily import DailyLossTracker
from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.risk import Portfolio
from peaktrade.root import Root


@dataclass
class PortfolioState:
    portfolio: Portfolio
    day_start_equity: float
    equity: float
    source: str


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _latest_run(root: Root):
    try:
        from peaktrade.runtime import runlog
    except ImportError:
        return None
    best = None
    for run_dir in runlog.list_run_dirs(root):
        try:
            meta = runlog.read_meta(run_dir)
        except Exception:  # noqa: BLE001 - an unreadable run is skipped, not fatal for a what-if
            continue
        key = str(meta.get("started_at") or "")
        if best is None or key > best[0]:
            best = (key, run_dir, meta)
    return best


def current_state(root: Root, limits: RiskLimits, starting_cash: float, clock: Clock = SYSTEM_CLOCK) -> PortfolioState:
    latest = _latest_run(root)
    if latest is not None:
        from datetime import datetime

        from peaktrade.runtime import runlog

        _, run_dir, meta = latest
        events = runlog.read_events(run_dir)
        if events:
            last = events[-1]
            symbol = meta.get("symbol") or "?"
            position, price = _num(last.get("position")), _num(last.get("price"), float("nan"))
            equity = _num(last.get("equity"), float("nan"))
            tracker = DailyLossTracker.for_limits(limits, clock)
            today = tracker.trading_day()
            day_start = equity
            for ev in events:
                ts = ev.get("ts_event")
                try:
                    when = ts if isinstance(ts, datetime) else datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
                except ValueError:
                    continue
                if tracker.trading_day(when) == today:
                    day_start = _num(ev.get("equity"), float("nan"))
                    break
            pf = Portfolio({symbol: position} if position else {}, {symbol: price}, _num(last.get("cash")))
            return PortfolioState(pf, day_start, equity, f"run {run_dir.name}, event {last.get('step')}")
    pf = Portfolio({}, {}, starting_cash)
    return PortfolioState(pf, starting_cash, starting_cash, f"no runs: empty portfolio, cash {starting_cash:.2f}")
