"""Pre-trade risk check throughput and latency (DESIGN 10 bar: >= 300,000 checks/s, p99 <= 20 µs).

A realistic portfolio: 20 symbols with open positions, all six limits of the shipped live stage scaled
to the portfolio, a mix of buy/sell, opening/reducing, allowed/blocked orders. Three scenarios:
  steady   - the portfolio does not change between checks (a burst of signals within one bar)
  per-bar  - one mark price changes before every check (gross exposure recomputed: the worst case)
  halted   - daily loss limit breached (every order blocked)
  session  - what a running session does per order (peaktrade/runtime/riskgate.py): a fresh one-symbol
             Portfolio and OrderIntent per check, so the portfolio cache is always cold
Throughput = checks / wall time of a tight loop, measured in chunks (median and best chunk: the box is
shared, the best chunk is the uncontended capacity); latency = per-call perf_counter_ns over single
calls (median and p99 of each repeat; the median over repeats is reported). In "per-bar" the
throughput counts (mark update + check) pairs, the latency times the check alone.

    python bench/bench_risk.py [--n 300000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time

from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.risk import OrderIntent, Portfolio, RiskEngine

SYMBOLS = [f"SYM{i:02d}/EUR" for i in range(20)]


def setup(seed: int = 7):
    rnd = random.Random(seed)
    marks = {s: rnd.uniform(1.0, 60000.0) for s in SYMBOLS}
    positions = {s: rnd.uniform(-1.0, 1.0) * 400.0 / marks[s] for s in SYMBOLS}  # ~400 EUR per symbol
    limits = RiskLimits(stage="live", max_order_notional=100.0, max_symbol_exposure=500.0,
                        max_total_exposure=10_000.0, max_open_positions=25, max_daily_loss_abs=500.0,
                        max_daily_loss_pct=5.0)
    orders = []
    for _ in range(4096):
        s = rnd.choice(SYMBOLS)
        notional = rnd.uniform(5.0, 150.0)  # about 1 in 3 orders above max_order_notional
        orders.append(OrderIntent(s, rnd.choice(("buy", "sell")), notional / marks[s],
                                  None if rnd.random() < 0.7 else marks[s] * rnd.uniform(0.99, 1.01)))
    return RiskEngine(limits), Portfolio(positions, marks, 10_000.0), orders, marks


def throughput(engine, pf, orders, n, equity, bump=False):
    check, k, marks = engine.check, len(orders), pf.marks
    t0 = time.perf_counter()
    if bump:
        for i in range(n):
            o = orders[i % k]
            marks[o.symbol] = marks[o.symbol] * 1.0000001
            check(o, pf, day_start_equity=10_000.0, equity=equity)
    else:
        for i in range(n):
            check(orders[i % k], pf, day_start_equity=10_000.0, equity=equity)
    return n / (time.perf_counter() - t0)


def session_throughput(engine, n):
    check, t0 = engine.check, time.perf_counter()
    for i in range(n):
        price = 60_000.0 + (i & 63)
        check(OrderIntent("BTC/EUR", "buy", 0.001, price), Portfolio({"BTC/EUR": 0.002}, {"BTC/EUR": price}, 9_000.0),
              day_start_equity=10_000.0, equity=10_000.0)
    return n / (time.perf_counter() - t0)


def session_latencies(engine, n):
    check, clock, out = engine.check, time.perf_counter_ns, [0] * n
    for i in range(n):
        price = 60_000.0 + (i & 63)
        t0 = clock()
        check(OrderIntent("BTC/EUR", "buy", 0.001, price), Portfolio({"BTC/EUR": 0.002}, {"BTC/EUR": price}, 9_000.0),
              day_start_equity=10_000.0, equity=10_000.0)
        out[i] = clock() - t0
    out.sort()
    return statistics.median(out) / 1000, out[int(n * 0.99)] / 1000


def latencies(engine, pf, orders, n, equity, bump=False):
    check, k, marks, clock = engine.check, len(orders), pf.marks, time.perf_counter_ns
    out = [0] * n
    for i in range(n):
        o = orders[i % k]
        if bump:
            marks[o.symbol] = marks[o.symbol] * 1.0000001
        t0 = clock()
        check(o, pf, day_start_equity=10_000.0, equity=equity)
        out[i] = clock() - t0
    out.sort()
    return statistics.median(out) / 1000, out[int(n * 0.99)] / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    engine, pf, orders, _ = setup()
    allowed = sum(engine.check(o, pf, day_start_equity=10_000.0, equity=10_000.0).allowed for o in orders)
    print(f"python {platform.python_version()}, 20 symbols, {len(orders)} distinct orders, "
          f"{allowed / len(orders):.0%} allowed, n={a.n}, best of {a.repeat}")
    print(f"{'scenario':<9} {'median/s':>10} {'best/s':>10} {'median µs':>10} {'p99 µs':>8}")
    chunk = 20_000
    for name, equity, bump in (("steady", 10_000.0, False), ("per-bar", 10_000.0, True), ("halted", 9_000.0, False)):
        rates = [throughput(engine, pf, orders, chunk, equity, bump) for _ in range(a.repeat * a.n // chunk)]
        runs = [latencies(engine, pf, orders, a.n, equity, bump) for _ in range(a.repeat)]
        med = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        print(f"{name:<9} {statistics.median(rates):>10,.0f} {max(rates):>10,.0f} {med:>10.2f} {p99:>8.2f}")
    rates = [session_throughput(engine, chunk) for _ in range(a.repeat * a.n // chunk)]
    runs = [session_latencies(engine, a.n) for _ in range(a.repeat)]
    med, p99 = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print(f"{'session':<9} {statistics.median(rates):>10,.0f} {max(rates):>10,.0f} {med:>10.2f} {p99:>8.2f}")


if __name__ == "__main__":
    main()
