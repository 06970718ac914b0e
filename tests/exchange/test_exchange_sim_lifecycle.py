"""Kraken's order lifecycle on the simulator, read through the real ccxt client and our adapter."""

from __future__ import annotations

import time

import pytest


def raw_status(ex, order_id):
    return ex.ccxt.fetch_order(order_id)["info"]["status"]


def test_pending_open_partial_fills_closed(make_sim, connect):
    sim = make_sim(profile_name="kraken")
    sim.behaviour.rate_counters = False
    sim.behaviour.pending_requests = 2  # still pending at the adapter's post-placement lookup
    ex = connect(sim)
    order = ex.create_order("BTC/EUR", "buy", "market", 0.03, client_order_id="life-pend")
    assert order.status == "open" and order.info["status"] == "pending" and order.filled == 0
    seen = []
    for _ in range(8):
        o = ex.fetch_order_by_client_id("life-pend")
        seen.append((o.info["status"], o.filled))
        if o.status == "closed":
            break
    statuses = [s for s, _ in seen]
    fills = [f for _, f in seen]
    assert "open" in statuses and statuses[-1] == "closed"
    assert 0 < min(f for f in fills if f > 0) < 0.03  # at least one partial fill was seen
    assert fills == sorted(fills) and fills[-1] == pytest.approx(0.03)
    trades = ex.fetch_my_trades(order_id=order.id)
    assert len(trades) == 3 and sum(t.amount for t in trades) == pytest.approx(0.03)
    assert all(t.maker is False for t in trades)  # a market order takes


def test_canceled_after_a_partial_fill(make_sim, connect):
    sim = make_sim()
    sim.behaviour.fill_steps = 10  # every request fills a tenth: still partial when the cancel arrives
    ex = connect(sim)
    ask = ex.fetch_ticker("BTC/EUR")["ask"]
    order = ex.create_order("BTC/EUR", "buy", "limit", 0.03, round(ask * 1.5, 1), client_order_id="life-part")
    assert order.status == "open" and 0 < order.filled < 0.03
    ex.cancel_order(order.id, "BTC/EUR")
    final = ex.fetch_order_by_client_id("life-part")
    # a fill may still land between our read and the cancel, as on Kraken
    assert final.status == "canceled" and order.filled <= final.filled < 0.03
    assert ex.fetch_balances()["EUR"]["used"] == 0  # the hold on the remainder is released
    assert sum(t.amount for t in ex.fetch_my_trades(order_id=order.id)) == pytest.approx(final.filled)


def test_expired(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    ex.ccxt.create_order("BTC/EUR", "limit", "buy", 0.01, 1000.0, {"clientOrderId": "life-exp", "expiretm": "+1"})
    assert ex.fetch_order_by_client_id("life-exp").status == "open"
    time.sleep(1.1)
    order = ex.fetch_order_by_client_id("life-exp")
    assert order.status == "expired" and order.filled == 0
    assert ex.fetch_open_orders() == []


def test_marketable_limit_fills_at_the_book_as_taker(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    ask = ex.fetch_ticker("BTC/EUR")["ask"]
    order = ex.create_order("BTC/EUR", "buy", "limit", 0.01, round(ask * 3, 1), client_order_id="life-mkt")
    assert order.status == "closed"
    assert order.average == pytest.approx(ask, rel=0.01)  # the book, not 3x the ask
    (trade,) = ex.fetch_my_trades(order_id=order.id)
    assert trade.maker is False and trade.fee == pytest.approx(trade.cost * 0.0026, rel=1e-3)


def test_resting_limit_fills_at_its_price_as_maker(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    bid = ex.fetch_ticker("BTC/EUR")["bid"]
    limit = round(bid * 0.999, 1)
    order = ex.create_order("BTC/EUR", "buy", "limit", 0.01, limit, client_order_id="life-rest")
    assert order.status == "open"
    with sim.lock:  # the market falls through the limit: the resting order is crossed
        sim.market.start_prices["BTC/EUR"] *= 0.9
    o = ex.fetch_order_by_client_id("life-rest")
    assert o.status == "closed" and o.average == pytest.approx(limit)
    (trade,) = ex.fetch_my_trades(order_id=order.id)
    assert trade.maker is True and trade.fee == pytest.approx(trade.cost * 0.0016, rel=1e-3)
