"""A session's decision latency per bar, excluding the exchange; the risk gate's own cost per order.

    .venv/bin/python bench/bench_session.py [--bars 5000] [--checks 300000]

Measures ``Session.on_bar``: strategy signal, sizing, the pre-trade risk gate (kill switch read
from var/ + risk engine), paper execution, the book, and the event append (write() to the kernel).
Candles are precomputed, so no exchange call is timed. A shadow run against the shipped policies.

The ``gate`` line times ``RiskGate.check`` alone as a session calls it (symbol, side, quantity, the
bar's price, the book's position, cash and equity; the price moves every call, the position every
20th), with the kill switch read replaced by a constant, i.e. the gate's inputs plus the risk engine:
the figure to compare with the "session" scenario of bench/bench_risk.py. ``gate+ks`` is the same with
the kill switch read from var/ on every check, as in a session.
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

from peaktrade.runtime.riskgate import RiskGate

from peaktrade.clock import SYSTEM_CLOCK
from peaktrade.root import Root, defaults_dir
from peaktrade.runtime.book import Book
from peaktrade.runtime.execution import PaperExecutor
from peaktrade.runtime.session import Session
from peaktrade.runtime.strategies import get_strategy
from peaktrade.runtime.writer import RunLogWriter


def candles(n: int) -> list[list[float]]:
    out, price = [], 60000.0
    for i in range(n):
        price *= 1 + 0.004 * math.sin(i / 7.0) + 0.001 * math.cos(i / 3.0)
        out.append([1_700_000_000_000 + i * 60_000, price, price * 1.001, price * 0.999, price, 1.0])
    return out


def bench_gate(root: Root, n: int, *, read_kill_switch: bool, log: logging.Logger) -> dict:
    gate = RiskGate(root, "shadow", log=log)
    if not read_kill_switch:
        gate.kill_switch_state = lambda: "ACTIVE"  # type: ignore[method-assign]
    gate.observe(10_000.0)
    check, chunk, rates, lat = gate.check, 20_000, [], []
    allowed = 0
    for start in range(0, n, chunk):
        t0 = time.perf_counter()
        for i in range(start, min(n, start + chunk)):
            price = 60_000.0 + (i & 63)
            position = 0.002 * ((i // 20) % 5)
            allowed += check(symbol="BTC/EUR", side="buy" if i & 1 else "sell", quantity=0.001, price=price,
                             position=position, cash=10_000.0 - position * price, equity=10_000.0).allowed
        rates.append((min(n, start + chunk) - start) / (time.perf_counter() - t0))
    clock = time.perf_counter_ns
    for i in range(min(n, 100_000)):
        price, position = 60_000.0 + (i & 63), 0.002 * ((i // 20) % 5)
        t = clock()
        check(symbol="BTC/EUR", side="buy" if i & 1 else "sell", quantity=0.001, price=price, position=position,
              cash=10_000.0 - position * price, equity=10_000.0)
        lat.append(clock() - t)
    lat.sort()
    return {"checks": n, "allowed": allowed, "median_chunk_checks_per_s": round(statistics.median(rates)),
            "best_chunk_checks_per_s": round(max(rates)), "median_us": round(lat[len(lat) // 2] / 1000, 2),
            "p99_us": round(lat[int(len(lat) * 0.99)] / 1000, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bars", type=int, default=5000)
    ap.add_argument("--checks", type=int, default=300_000)
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
                    steps=0, feed=None, strategy=strategy, gate=RiskGate(root, "shadow", log=log),
                    executor=PaperExecutor(0.0026, 5.0), book=Book(10000.0), writer=writer, clock=SYSTEM_CLOCK,
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
        print("gate:", bench_gate(root, args.checks, read_kill_switch=False, log=log))
        print("gate+ks:", bench_gate(root, args.checks // 10, read_kill_switch=True, log=log))


if __name__ == "__main__":
    main()
