"""An AddOrder that lands after the client gave up, and Kraken's refusal of a client id still open."""

from __future__ import annotations

import time

import pytest

from peaktrade.exchange.base import ExchangeOrderError, ExchangeOrderStateUnknown
from peaktrade.exchange.sim.engine import DUPLICATE


def test_late_landing_is_unknown_then_found_never_placed_twice(make_sim, connect):
    sim = make_sim()
    sim.behaviour.late_landing_delay_s = 0.4
    ex = connect(sim)
    sim.inject("late_landing", path="AddOrder")
    with pytest.raises(ExchangeOrderStateUnknown) as err:
        ex.create_order("BTC/EUR", "buy", "market", 0.01, client_order_id="late-2")
    assert err.value.client_order_id == "late-2"
    assert sim.orders_by_client_id("late-2") == []  # not there at the adapter's lookup
    time.sleep(0.3 + 0.4 + 0.2)  # the request lands after the timeout and the lookup
    found = ex.fetch_order_by_client_id("late-2")
    assert found is not None and found.status == "closed" and found.filled == pytest.approx(0.01)
    # the caller retries the same intent with the same client id: the lookup returns it, nothing is placed
    again = ex.create_order("BTC/EUR", "buy", "market", 0.01, client_order_id="late-2")
    assert again.id == found.id and len(sim.orders_by_client_id("late-2")) == 1
    assert sim.requests.count("private/AddOrder") == 1
    assert ex.fetch_balance()["BTC"] == pytest.approx(0.01)  # 0.01 BTC for one 0.01 intent


def test_duplicate_open_client_id_is_refused_with_krakens_string(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    first = ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id="dup-open")
    with pytest.raises(Exception, match=DUPLICATE):
        ex.ccxt.create_order("BTC/EUR", "limit", "buy", 0.01, 1000.0, {"clientOrderId": "dup-open"})
    assert sim.orders_by_client_id("dup-open") == [first.id]
    # our adapter recognises the refusal: it is the same intent, already resting
    again = ex._place("BTC/EUR", "buy", "limit", 0.01, 1000.0, "dup-open")
    assert again.id == first.id and again.status == "open"
    # once the first is closed, Kraken takes the id again: the simulator does too (uniqueness is ours)
    ex.cancel_order(first.id, "BTC/EUR")
    ex.ccxt.create_order("BTC/EUR", "limit", "buy", 0.01, 1000.0, {"clientOrderId": "dup-open"})
    assert len(sim.orders_by_client_id("dup-open")) == 2


def test_duplicate_maps_to_an_order_error(make_sim, connect):
    from peaktrade.exchange.errors_map import map_kraken_error

    err = map_kraken_error(DUPLICATE, order=True)
    assert isinstance(err, ExchangeOrderError) and err.exchange_code == DUPLICATE
