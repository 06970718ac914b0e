"""The gateway primitives on the dummy exchange, and the offline sizing function."""

from __future__ import annotations

import pytest

from peaktrade.exchange.base import ExchangeOrderError, GatewayExchange, MarketRules, size_order
from peaktrade.exchange.dummy import DummyExchange

DUMMY = {"seed": 42, "bar_seconds": 1, "start_prices": {"BTC/EUR": 60000.0, "ETH/EUR": 3000.0},
         "starting_balance": {"EUR": 10000.0}}


def test_dummy_offers_the_gateway_primitives(clock):
    ex = DummyExchange(DUMMY, clock=clock)
    assert isinstance(ex, GatewayExchange)
    order = ex.create_order("BTC/EUR", "buy", "market", 0.01, client_order_id="g-1")
    (trade,) = ex.fetch_my_trades(order_id=order.id)
    assert trade.amount == 0.01 and trade.fee == pytest.approx(order.fee) and trade.maker is False
    assert ex.fetch_my_trades("ETH/EUR") == []
    assert ex.fetch_order_by_client_id("g-1", userref=5).id == order.id
    assert ex.fetch_closed_orders(since=0)[0].id == order.id
    bal = ex.fetch_balances()["BTC"]
    assert bal == {"free": pytest.approx(0.01), "used": 0.0, "total": pytest.approx(0.01)}
    assert ex.cancel_all_after(60)["supported"] is False
    assert ex.size_order("BTC/EUR", "buy", "limit", 0.5, 100.0).amount == 0.5


def test_size_order_offline():
    rules = MarketRules("ETH/EUR", 0.002, 0.5, 1e-08, 0.01)
    assert size_order(rules, "buy", "limit", 0.0020000099, 3000.019).price == 3000.01
    assert size_order(rules, "sell", "limit", 0.01, 3000.011).price == 3000.02
    with pytest.raises(ExchangeOrderError, match="rounds to 0"):
        size_order(rules, "buy", "limit", 0.000000001, 3000.0)
    with pytest.raises(ExchangeOrderError, match="Order minimum not met"):
        size_order(rules, "buy", "market", 0.001, reference_price=3000.0)
    with pytest.raises(ExchangeOrderError, match="Cost minimum not met"):
        size_order(MarketRules("X/EUR", 1.0, 5.0, 1.0, 0.0001), "buy", "market", 1.0, reference_price=0.1)
    with pytest.raises(ExchangeOrderError, match="Invalid order side"):
        size_order(rules, "hold", "limit", 1.0, 3000.0)
