"""CancelAllOrdersAfter: Kraken's dead-man switch really cancels when it expires."""

from __future__ import annotations

import time

from peaktrade.exchange.dummy import DummyExchange


def test_dead_man_switch_cancels_when_it_expires(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    for price in (1000.0, 1100.0):
        ex.create_order("BTC/EUR", "buy", "limit", 0.01, price)
    armed = ex.cancel_all_after(1)
    assert armed["supported"] and armed["armed"] and armed["trigger_time"].endswith("Z")
    assert len(ex.fetch_open_orders()) == 2
    time.sleep(1.1)
    assert ex.fetch_open_orders() == []
    reasons = {o.info.get("reason") for o in ex.fetch_closed_orders()}
    assert reasons == {"Dead man switch"}


def test_re_arming_and_disarming(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0)
    ex.cancel_all_after(1)
    time.sleep(0.6)
    ex.cancel_all_after(1)  # the heartbeat pushes the trigger out
    time.sleep(0.6)
    assert len(ex.fetch_open_orders()) == 1
    off = ex.cancel_all_after(0)
    assert off["supported"] and not off["armed"] and off["note"] == "disarmed"
    time.sleep(1.1)
    assert len(ex.fetch_open_orders()) == 1


def test_without_a_dead_man_switch_it_is_a_clear_no_op():
    result = DummyExchange().cancel_all_after(60)
    assert result["supported"] is False and result["armed"] is False and "no dead-man switch" in result["note"]
