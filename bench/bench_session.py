"""A session's decision latency per bar, excluding the exchange.

    .venv/bin/python bench/bench_session.py [--bars 5000]

Measures ``Session.on_bar``: strategy signal, sizing, the order gateway (kill switch read from the desk
state, desk-wide risk decision and a durable intent per order, paper fill booked into the desk ledger),
the book, and the event append (write() to the kernel). Candles are precomputed, so no exchange call is
timed. A shadow run against the shipped policies. The gateway's own cost per order and the desk-wide risk
decision are measured by bench/bench_gateway.py and bench/bench_desk_risk.py.
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from peaktrade.clock import SYSTEM_CLOCK
from peaktrade.gateway import Gateway
from peaktrade.gateway.venues import PaperVenue
from peaktrade.policy.limits import load_risk_limits
from peaktrade.root import Root, defaults_dir
from peaktrade.runtime.book import Book
from peaktrade.runtime.routing import SessionOrders
from peaktrade.runtime.session import Session
from peaktrade.runtime.strategies import get_strategy
from peaktrade.runtime.writer import RunLogWriter


def candles(n: int) -> list[list[float]]:
    out, price = [], 60000.0
    for i in range(n):
        price *= 1 + 0.004 * math.sin(i / 7.0) + 0.001 * math.cos(i / 3.0)
        out.append([1_700_000_000_000 + i * 60_000, price, price * 1.001, price * 0.999, price, 1.0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("config", "policies", "schemas"):
            shutil.copytree(defaults_dir() / d, Path(tmp) / d)
        root = Root.resolve(tmp)
        log = logging.getLogger("bench.session")
        log.addHandler(logging.NullHandler())
        log.propagate = False
        strategy = get_strategy("ma_crossover", {"strategy": {"ma_crossover": {
            "fast_window": 5, "slow_window": 20, "position_fraction": 0.02}}})
        writer = RunLogWriter(Path(tmp) / "run", compact_every=10**9)
        s = Session(run_id="shadow_20251207_120000_abcdef", symbol="BTC/EUR", timeframe="1m", tf_ms=60_000,
                    steps=0, feed=None, strategy=strategy,
                    orders=SessionOrders(Gateway(root, account="paper", venue=PaperVenue(0.0026, 5.0),
                                                 limits=load_risk_limits(root, "shadow"), log=log),
                                         "shadow_20251207_120000_abcdef", "BTC/EUR"),
                    book=Book(10000.0), writer=writer, clock=SYSTEM_CLOCK,
                    log=log, stop=threading.Event())
        bars = candles(args.bars + 20)
        for bar in bars[:20]:  # warm-up: the strategy's window fills
            s.on_bar(bar)
        lat, with_order = [], []
        for bar in bars[20:]:
            fills = len(s.book.fills)
            t = time.perf_counter_ns()
            s.on_bar(bar)
            dt = (time.perf_counter_ns() - t) / 1000
            lat.append(dt)
            if len(s.book.fills) > fills:
                with_order.append(dt)
        writer.close()
        lat.sort()
        print({"bars": len(lat), "fills": len(s.book.fills), "median_us": round(statistics.median(lat), 1),
               "p99_us": round(lat[int(len(lat) * 0.99)], 1), "max_us": round(lat[-1], 1),
               "median_us_bars_with_a_fill": round(statistics.median(with_order), 1) if with_order else None})


if __name__ == "__main__":
    main()
