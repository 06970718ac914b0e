"""Per-pair minimums and precision from AssetPairs; orders sized before they leave; validate-only as Kraken."""

from __future__ import annotations

import pytest

from peaktrade.exchange.base import ExchangeOrderError


def test_market_rules_come_from_asset_pairs(make_sim, connect):
    ex = connect(make_sim())
    btc, eth = ex.market_rules("BTC/EUR"), ex.market_rules("ETH/EUR")
    assert (btc.amount_min, btc.cost_min, btc.amount_step, btc.price_tick) == (0.00005, 0.5, 1e-08, 0.1)
    assert (eth.amount_min, eth.price_tick) == (0.002, 0.01)
    assert btc.taker_fee == pytest.approx(0.0026) and btc.maker_fee == pytest.approx(0.0016)
    with pytest.raises(ExchangeOrderError, match="Unknown symbol"):
        ex.market_rules("DOGE/EUR")


def test_size_order_rounds_and_refuses_before_anything_leaves(make_sim, connect):
    sim = make_sim()
    ex = connect(sim)
    sized = ex.size_order("BTC/EUR", "buy", "limit", 0.0123456789, 50_000.07)
    assert (sized.amount, sized.price) == (0.01234567, 50_000.0)  # truncated; a buy never rounds up
    assert ex.size_order("BTC/EUR", "sell", "limit", 0.01, 50_000.01).price == 50_000.1  # a sell never down
    with pytest.raises(ExchangeOrderError, match="Order minimum not met"):
        ex.create_order("BTC/EUR", "buy", "market", 0.000001)
    with pytest.raises(ExchangeOrderError, match="Cost minimum not met"):
        ex.create_order("BTC/EUR", "buy", "limit", 0.0001, 1000.0)
    assert "private/AddOrder" not in sim.requests  # refused here, never sent
    placed = ex.create_order("BTC/EUR", "buy", "limit", 0.0123456789, 1000.07, client_order_id="rules-1")
    assert placed.amount == 0.01234567 and placed.price == 1000.0


def test_the_exchange_refuses_what_slips_through(make_sim, connect):
    """The simulator's own checks, met when an order is sent without our sizing (ccxt directly)."""
    ex = connect(make_sim())
    cases = [((0.00001, 60_000.0), "EOrder:Order minimum not met"), ((0.0001, 1000.0), "EOrder:Cost minimum not met")]
    for (amount, price), code in cases:
        with pytest.raises(ExchangeOrderError) as err:
            ex._call(ex.ccxt.create_order, "BTC/EUR", "limit", "buy", amount, price, {}, _order=True)
        assert type(err.value) is ExchangeOrderError and err.value.exchange_code == code
    raw = ex.ccxt.privatePostAddOrder  # a price beyond pair_decimals, as a hand-written client would send it
    with pytest.raises(Exception, match="EOrder:Invalid price:XXBTZEUR price can only be specified up to 1 decimals"):
        raw({"pair": "XXBTZEUR", "type": "buy", "ordertype": "limit", "volume": "0.01", "price": "1000.05"})


def test_validate_only_checks_minimums_not_funds(make_sim, connect):
    sim = make_sim(balances={"EUR": 10.0})
    ex = connect(sim)
    preview = ex._call(ex.ccxt.create_order, "BTC/EUR", "limit", "buy", 1.0, 50_000.0, {"validate": True})
    assert preview["id"] is None  # 50,000 EUR on a 10 EUR account: Kraken does not check funds here
    with pytest.raises(ExchangeOrderError, match="Order minimum not met"):
        ex._call(ex.ccxt.create_order, "BTC/EUR", "limit", "buy", 0.00001, 50_000.0, {"validate": True},
                 _order=True)
    assert sim.orders == {}
