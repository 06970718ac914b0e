"""Kraken's server-side counters and the temporary lockout, through the real ccxt client."""

from __future__ import annotations

import pytest

from peaktrade.clock import FakeClock
from peaktrade.exchange.base import ExchangeRateLimitError


def test_rest_call_counter_refuses_then_decays(make_sim, connect):
    sim = make_sim(profile_name="kraken")
    sim.behaviour.api_counter_max, sim.behaviour.api_counter_decay = 4.0, 50.0
    clock = FakeClock()
    ex = connect(sim, attempts=1, clock=clock)
    with pytest.raises(ExchangeRateLimitError) as err:
        for _ in range(10):
            ex.fetch_balance()
    assert err.value.exchange_code == "EAPI:Rate limit exceeded" and err.value.retry_after_s == 60.0
    import time

    time.sleep(0.2)  # 50/s decay: the counter is back under its maximum
    assert ex.fetch_balance()["EUR"] == 1_000_000.0


def test_trades_history_costs_two(make_sim, connect):
    sim = make_sim(profile_name="kraken")
    sim.behaviour.api_counter_max, sim.behaviour.api_counter_decay = 5.0, 0.0
    ex = connect(sim, attempts=1)
    ex.fetch_my_trades()
    ex.fetch_my_trades()
    with pytest.raises(ExchangeRateLimitError):
        ex.fetch_my_trades()  # 2 + 2 + 2 > 5


def test_trading_counter_per_pair(make_sim, connect):
    sim = make_sim(profile_name="kraken")
    b = sim.behaviour
    b.pending_requests, b.trade_counter_max, b.trade_counter_decay = 0, 10.0, 0.0
    b.api_counter_max = 1000.0
    ex = connect(sim, attempts=1)
    first = ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id="rl-1")
    ex.cancel_order(first.id, "BTC/EUR")  # +8: a cancel within 5 s of placement is the costliest
    with pytest.raises(ExchangeRateLimitError) as err:
        ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id="rl-2")
        ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id="rl-3")
    assert err.value.exchange_code == "EOrder:Rate limit exceeded"
    assert ex.create_order("ETH/EUR", "buy", "limit", 0.01, 100.0, client_order_id="rl-eth").status == "open"


def test_temporary_lockout_is_a_rate_limit_with_a_long_hint_and_no_retry(make_sim, connect):
    sim = make_sim()
    clock = FakeClock()
    ex = connect(sim, clock=clock)
    sim.inject("lockout")
    for _ in range(2):  # the lockout outlasts the request that caused it
        with pytest.raises(ExchangeRateLimitError) as err:
            ex.fetch_balance()
        assert err.value.exchange_code == "EGeneral:Temporary lockout"
        assert err.value.retry_after_s == 900.0 and not err.value.retry_reads
    assert clock.sleeps == []  # a 15-minute lockout is not waited out by a read's back-off
    assert ex.fetch_ticker("BTC/EUR")["last"] > 0  # public endpoints are not locked
    sim.lock_out(0)
    assert ex.fetch_balance()["EUR"] == 1_000_000.0
