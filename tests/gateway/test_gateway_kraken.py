"""The order path against the Kraken-like simulator with the real ccxt client (issue 14, DESIGN 6).

A session's orders go through the gateway for a few hundred bars while the simulator behaves like Kraken
(pending orders, fills over several requests) and faults are injected (late landing, timeouts, rate
limits, lockout, service errors, Cloudflare pages): no client order id is ever placed twice, every
unknown outcome is resolved by reconciliation or escalated (the session stops), and at the end the desk
ledger equals what the exchange reports."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter

import pytest

from peaktrade.clock import FakeClock
from peaktrade.exchange.ccxt_adapter import CcxtExchange
from peaktrade.exchange.simulator import KrakenSimulator
from peaktrade.gateway import Gateway
from peaktrade.gateway.venues import ExchangeVenue, PaperVenue
from peaktrade.policy.limits import RiskLimits
from peaktrade.root import Root
from peaktrade.runtime.live import sync_ledger
from peaktrade.runtime.routing import SessionOrders

from .conftest import init_root

KEY, SECRET = "gw-sim-key-31ab", "Z3ctc2ltLXNlY3JldC05OWZmMDA="
FAULTS = ["late_landing", "accept_then_timeout", "timeout", "rate_limit", "order_rate_limit", "service_unavailable",
          "service_busy", "cloudflare_520", "cloudflare_522", "lockout", "http_500"]
PATHS = ["AddOrder", "AddOrder", "AddOrder", "OpenOrders", "ClosedOrders", "QueryOrders", None]


@pytest.fixture
def sim():
    s = KrakenSimulator(KEY, SECRET, profile_name="kraken", timeout_delay_s=0.05,
                        balances={"EUR": 10_000_000.0, "BTC": 50.0})
    b = s.behaviour
    b.rate_counters, b.late_landing_delay_s, b.lockout_s = False, 0.05, 0.03
    s.start()
    yield s
    s.stop()


def _client(sim) -> CcxtExchange:
    ex = CcxtExchange("kraken", mode="testnet", api_key=KEY, secret=SECRET, rate_limit_ms=0, timeout_ms=30,
                      base_url=sim.base_url, execution="sandbox", retry_max_attempts=3, retry_base_delay_s=0.01,
                      retry_max_delay_s=0.05, rate_limit_backoff_s=0.01, clock=FakeClock())
    ex.load_markets()
    return ex


@pytest.mark.slow
def test_a_session_under_a_fault_mix_never_places_twice_and_ends_equal_to_the_account(tmp_path, sim):
    root = Root.resolve(init_root(tmp_path / "desk"))
    ex = _client(sim)
    gw = Gateway(root, account="testnet", venue=ExchangeVenue(ex, PaperVenue(0.0, 0.0)), limits=RiskLimits(),
                 log=logging.getLogger("test.gateway.kraken"), landing_window_s=0.2)
    sync_ledger(gw, ex, "BTC/EUR")
    rng = random.Random(20261204)
    outcomes: Counter[str] = Counter()
    escalated: list[str] = []
    run, orders = 0, None
    for bar in range(320):
        if orders is None:
            run += 1
            orders = SessionOrders(gw, f"testnet_20261204_120000_{run:06x}", "BTC/EUR", unknown_bars=6,
                                   reconcile_every=0)
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            sim.inject(rng.choice(FAULTS), path=rng.choice(PATHS))
        mark = 60_000.0
        settled = orders.settle(mark)
        if settled.fatal:  # the session stops with a critical alert; a new one takes over
            escalated.append(settled.fatal)
            orders = None
            sim._faults.clear()
            continue
        placed = orders.place(rng.choice(["buy", "sell"]), 0.001, mark, bar)
        outcomes["blocked" if not placed.allowed else "rejected" if placed.rejected
                 else "unknown" if placed.error else "sent"] += 1
        sim._faults.clear()
        time.sleep(0.002)
    # the faults stop; what may still land lands; reconciliation books everything there is
    time.sleep(0.3)
    for _ in range(6):
        sim.step(3)
        for intent in gw.store.open_intents("testnet"):
            gw.reconcile(intent, mark=60_000.0)
    gw.cancel_all("BTC/EUR")
    for intent in gw.store.open_intents("testnet"):
        gw.reconcile(intent, mark=60_000.0)
    wire = Counter(o["cl_ord_id"] for o in sim.orders.values())
    assert wire and max(wire.values()) == 1, "a client order id was placed twice"
    # a few hundred orders wanted; an unknown outcome makes new orders of the symbol wait until it is resolved.
    # How many get through depends on timing (the landing window and the lockouts run on the wall clock): a
    # typical run sends ~100 with ~20 unknown, a loaded machine 30 with 14; the floor only says the mix was
    # exercised, the invariants below are what the test is about
    assert outcomes["sent"] >= 10 and outcomes["unknown"] >= 3 and outcomes["blocked"] > 0, (outcomes, escalated)
    time.sleep(0.3)  # past the landing window: what is still not found never landed
    for intent in gw.store.open_intents("testnet"):
        gw.reconcile(intent, mark=60_000.0)
    assert gw.store.open_intents("testnet") == []  # every intent is final: filled, canceled, rejected, not placed
    con = __import__("sqlite3").connect(root.var_dir / "desk.sqlite")
    never_landed = [r[0] for r in con.execute("SELECT client_order_id FROM intents WHERE status = 'not_placed'")]
    assert not set(never_landed) & set(wire)  # closed as not placed only if it really is not at the exchange
    assert all("order state unknown" in e for e in escalated)
    # the desk ledger equals the account
    assert gw.drift("BTC/EUR") == [], gw.drift("BTC/EUR")
    print(dict(outcomes), f"{len(escalated)} escalated, {len(never_landed)} never landed")
