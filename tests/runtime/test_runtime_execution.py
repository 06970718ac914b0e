"""Executing allowed orders: the exchange's testnet path (dummy exchange) and paper fills."""

from __future__ import annotations

import pytest

from peaktrade.clock import FakeClock
from peaktrade.exchange.base import Order
from peaktrade.exchange.dummy import DummyExchange
from peaktrade.runtime.execution import ExchangeExecutor, PaperExecutor


@pytest.fixture
def dummy():
    return DummyExchange({"seed": 1, "bar_seconds": 1, "starting_balance": {"EUR": 10000.0}}, clock=FakeClock())


def test_paper_fill_pays_slippage_and_fee():
    ex = PaperExecutor(0.001, 10.0).execute("buy", 2.0, 100.0)
    assert ex.fill.price == pytest.approx(100.1) and ex.fill.fee == pytest.approx(2 * 100.1 * 0.001)
    assert PaperExecutor(0.0, 10.0).execute("sell", 1.0, 100.0).fill.price == pytest.approx(99.9)


def test_market_order_on_the_dummy_exchange_fills_with_its_price_and_fee(dummy):
    ex = ExchangeExecutor(dummy, "BTC/EUR", "testnet_20251207_120000_abcdef").execute("buy", 0.001, 60000.0)
    assert ex.fill is not None and not ex.rejected
    order = dummy.fetch_closed_orders()[0]
    assert order.client_order_id.startswith("pt-abcdef-1-")
    assert ex.fill.price == order.average and ex.fill.fee == order.fee and ex.fill.quantity == 0.001


@pytest.mark.parametrize("fault, text, fatal", [
    ("reject", "order rejected: Order rejected by the exchange", False),
    ("network", "order not placed (ExchangeNetworkError: Request timeout)", False),
    ("auth", "authentication failed: Invalid API key", True),
])
def test_failed_orders_are_rejected_never_resubmitted(dummy, fault, text, fatal):
    dummy.inject(fault, methods=("create_order",))
    ex = ExchangeExecutor(dummy, "BTC/EUR", "testnet_20251207_120000_abcdef").execute("buy", 0.001, 60000.0)
    assert (ex.fill, ex.rejected, ex.error, ex.fatal) == (None, True, text, fatal)
    assert dummy.fetch_closed_orders() == [] and dummy.fetch_open_orders() == []


def test_insufficient_funds_is_a_rejection(dummy):
    ex = ExchangeExecutor(dummy, "BTC/EUR", "testnet_20251207_120000_abcdef").execute("buy", 10.0, 60000.0)
    assert ex.rejected and ex.error.startswith("order rejected: Insufficient funds")


class _ValidateOnly:
    def create_order(self, symbol, side, type, amount, price=None, *, client_order_id=None, validate_only=False):
        return Order(None, client_order_id, symbol, side, type, amount, price, "validated", validated_only=True)


def test_validate_only_testnet_orders_fill_on_paper():
    ex = ExchangeExecutor(_ValidateOnly(), "BTC/EUR", "testnet_20251207_120000_abcdef",
                          PaperExecutor(0.0, 0.0)).execute("sell", 0.5, 100.0)
    assert ex.fill.price == 100.0 and ex.fill.quantity == 0.5 and not ex.rejected
