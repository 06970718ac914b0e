"""Exchange layer latencies (no DESIGN 10 bar; figures for capacity planning).

  dummy ticker        DummyExchange.fetch_ticker, the clock moving one tick per call (cold price path)
  dummy ohlcv         fetch_ohlcv(limit=100, "1m") with bar_seconds=1 (1,600 sampled ticks per call)
  ccxt time           CcxtExchange.server_time via the real ccxt kraken client -> loopback simulator
  ccxt order          create_order(limit, with a client id): pre-check lookup + AddOrder + reconcile read
  fault loop          1,000 injected faults in an order loop (as tests/exchange, timeouts 30 ms)

    python bench/bench_exchange.py [--n 300]
"""

from __future__ import annotations

import argparse
import base64
import platform
import random
import statistics
import time
from collections.abc import Callable

from peaktrade.clock import FakeClock
from peaktrade.exchange.base import ExchangeError
from peaktrade.exchange.ccxt_adapter import CcxtExchange
from peaktrade.exchange.dummy import DummyExchange
from peaktrade.exchange.simulator import KrakenSimulator

KEY, SECRET = "bench-key-123456", base64.b64encode(b"bench-secret-abcdefgh").decode()
DUMMY = {"seed": 42, "bar_seconds": 1, "start_prices": {"BTC/EUR": 60000.0}, "starting_balance": {"EUR": 1e6}}


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"| {name} | {len(ms)} | {statistics.median(ms):.3f} | {p99:.3f} | {1000 / statistics.mean(ms):,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    n = ap.parse_args().n
    print("| what | n | median ms | p99 ms | per second |\n|---|---|---|---|---|")
    clock = FakeClock()
    dummy = DummyExchange(DUMMY, clock=clock)

    def tick() -> None:
        clock.advance(1)
        dummy.fetch_ticker("BTC/EUR")

    report("dummy fetch_ticker (new tick each call)", timed(tick, n * 10))

    def bars() -> None:
        clock.advance(60)
        dummy.fetch_ohlcv("BTC/EUR", "1m", limit=100)

    report("dummy fetch_ohlcv 100 x 1m", timed(bars, n))
    with KrakenSimulator(KEY, SECRET, balances={"EUR": 1e9}) as sim:
        ex = CcxtExchange("kraken", mode="testnet", api_key=KEY, secret=SECRET, rate_limit_ms=0, timeout_ms=2000,
                          base_url=sim.base_url, execution="sandbox", clock=FakeClock())
        ex.load_markets()
        report("ccxt kraken server_time -> simulator", timed(ex.server_time, n))
        ids = iter(range(10**9))
        report("ccxt kraken create_order (client id) -> simulator",
               timed(lambda: ex.create_order("BTC/EUR", "buy", "limit", 0.001, 1000.0,
                                             client_order_id=f"b{next(ids)}"), n))
        sim.orders.clear()
        sim.timeout_delay_s = 0.08
        fx = CcxtExchange("kraken", mode="testnet", api_key=KEY, secret=SECRET, rate_limit_ms=0, timeout_ms=30,
                          base_url=sim.base_url, execution="sandbox", retry_base_delay_s=0.5,
                          rate_limit_backoff_s=60, clock=FakeClock())
        fx.load_markets()
        rng = random.Random(1)
        faults = ["timeout", "accept_then_timeout", "http_500", "rate_limit", "invalid_key", "invalid_nonce",
                  "insufficient_funds", "garbage"]
        injected, orders, t0 = 0, 0, time.perf_counter()
        while injected < 1000:
            orders += 1
            for _ in range(rng.randint(2, 4)):
                sim.inject(rng.choices(faults, [1, 1, 3, 3, 2, 3, 2, 3])[0],
                           path=rng.choice(["AddOrder", "AddOrder", "OpenOrders", "ClosedOrders", None]))
                injected += 1
            try:
                fx.create_order("BTC/EUR", "buy", "limit", 0.001, 1000.0, client_order_id=f"f{orders}")
            except ExchangeError:
                pass
            sim._faults.clear()
        wall = time.perf_counter() - t0
        dup = max(len(sim.orders_by_client_id(f"f{i}")) for i in range(1, orders + 1))
        print(f"\nfault loop: {injected} faults over {orders} orders in {wall:.2f} s; "
              f"max orders per client id = {dup}")
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    import os

    print(f"\nmachine: nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
