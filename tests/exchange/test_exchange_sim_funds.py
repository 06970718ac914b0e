"""Funds held by open orders: checked against what is free, reported as used."""

from __future__ import annotations

import pytest

from peaktrade.exchange.base import ExchangeOrderError


def test_second_buy_beyond_free_funds_is_refused(make_sim, connect):
    sim = make_sim(balances={"EUR": 10_000.0})
    ex = connect(sim)
    price = round(ex.fetch_ticker("BTC/EUR")["bid"] * 0.8, 1)  # below the market: both would rest
    amount = round(7_500.0 / price, 8)
    first = ex.create_order("BTC/EUR", "buy", "limit", amount, price, client_order_id="hold-1")  # 7,500 EUR
    assert first.status == "open"
    bal = ex.fetch_balances()["EUR"]
    assert bal["total"] == pytest.approx(10_000.0)
    assert bal["used"] == pytest.approx(7_500.0 * 1.0026, rel=1e-6)
    assert bal["free"] == pytest.approx(10_000 - bal["used"])
    with pytest.raises(ExchangeOrderError, match="Insufficient funds") as err:
        ex.create_order("BTC/EUR", "buy", "limit", amount, price, client_order_id="hold-2")
    assert err.value.exchange_code == "EOrder:Insufficient funds"
    assert sim.orders_by_client_id("hold-2") == []
    ex.cancel_order(first.id, "BTC/EUR")
    assert ex.fetch_balances()["EUR"] == {"free": 10_000.0, "used": 0.0, "total": 10_000.0}
    assert ex.create_order("BTC/EUR", "buy", "limit", amount, price, client_order_id="hold-3").status == "open"


def test_sell_holds_the_base_currency(make_sim, connect):
    sim = make_sim(balances={"EUR": 1000.0, "BTC": 0.02})
    ex = connect(sim)
    ex.create_order("BTC/EUR", "sell", "limit", 0.015, 500_000.0, client_order_id="hold-s1")
    assert ex.fetch_balances()["BTC"] == {"free": pytest.approx(0.005), "used": pytest.approx(0.015),
                                          "total": pytest.approx(0.02)}
    with pytest.raises(ExchangeOrderError, match="Insufficient funds"):
        ex.create_order("BTC/EUR", "sell", "limit", 0.01, 500_000.0, client_order_id="hold-s2")
