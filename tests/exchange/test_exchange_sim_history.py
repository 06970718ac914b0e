"""TradesHistory, QueryOrders with userref, lookups by client id and userref in open and closed orders."""

from __future__ import annotations

import time

import pytest


def test_my_trades_match_the_orders(make_sim, connect):
    sim = make_sim()
    sim.behaviour.fill_steps = 2
    ex = connect(sim)
    t0 = int(time.time() * 1000) - 1000
    a = ex.create_order("BTC/EUR", "buy", "market", 0.02, client_order_id="hist-a")
    b = ex.create_order("ETH/EUR", "buy", "market", 0.5, client_order_id="hist-b")
    for cid in ("hist-a", "hist-b"):
        assert ex.fetch_order_by_client_id(cid).status == "closed"
    trades = ex.fetch_my_trades(since=t0)
    assert {t.order_id for t in trades} == {a.id, b.id} and len(trades) == 4
    assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)
    mine = ex.fetch_my_trades("BTC/EUR", order_id=a.id)
    final = ex.fetch_order_by_client_id("hist-a")
    assert sum(t.amount for t in mine) == pytest.approx(final.filled)
    assert sum(t.fee for t in mine) == pytest.approx(final.fee, rel=1e-4)
    assert all(t.symbol == "BTC/EUR" and t.fee_currency == "EUR" for t in mine)
    assert ex.fetch_my_trades(since=int(time.time() * 1000) + 60_000) == []


def test_trades_history_pages_are_all_read(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    for i in range(55):
        ex.ccxt.create_order("BTC/EUR", "market", "buy", 0.0001, None, {"clientOrderId": f"page-{i}"})
    assert len(ex.fetch_my_trades()) == 55  # Kraken pages 50 a time


def test_query_orders_with_userref_and_lookup_by_userref(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    reply = ex.ccxt.privatePostAddOrder({"pair": "XXBTZEUR", "type": "buy", "ordertype": "limit", "volume": "0.01",
                                         "price": "1000.0", "userref": "424242"})
    txid = reply["result"]["txid"][0]
    order = ex.ccxt.fetch_order(txid, None, {"userref": 424242})
    assert order["id"] == txid and order["clientOrderId"] == "424242"
    assert ex.ccxt.privatePostQueryOrders({"txid": txid, "userref": "7"})["result"] == {}  # restricted away
    found = ex.fetch_order_by_client_id("my-intent", userref=424242)
    assert found is not None and found.id == txid and found.status == "open"
    ex.cancel_order(txid, "BTC/EUR")
    closed = ex.fetch_order_by_client_id("my-intent", userref=424242)
    assert closed.id == txid and closed.status == "canceled"  # found among the closed orders too
    assert ex.fetch_order_by_client_id("nobody", userref=1) is None


def test_closed_orders_since(make_sim, connect):
    ex = connect(make_sim())
    ex.create_order("BTC/EUR", "buy", "market", 0.001, client_order_id="since-1")
    cut = int(time.time() * 1000) + 5
    time.sleep(0.05)
    ex.create_order("BTC/EUR", "buy", "market", 0.001, client_order_id="since-2")
    assert [o.client_order_id for o in ex.fetch_closed_orders(since=cut)] == ["since-2"]
    assert {o.client_order_id for o in ex.fetch_closed_orders()} == {"since-1", "since-2"}
