"""The gateway against the dummy exchange: fills, rejections, unknown outcomes, deterministic ids, resume."""

from __future__ import annotations

import logging

import pytest

from peaktrade.clock import FakeClock
from peaktrade.exchange.base import Order
from peaktrade.exchange.dummy import DummyExchange
from peaktrade.gateway import Gateway, OrderRequest, client_order_id
from peaktrade.gateway.venues import ExchangeVenue, PaperVenue
from peaktrade.policy.limits import load_risk_limits
from peaktrade.root import Root

from .conftest import init_root


@pytest.fixture
def root(tmp_path):
    return Root.resolve(init_root(tmp_path / "desk"))


@pytest.fixture
def dummy():
    return DummyExchange({"seed": 1, "bar_seconds": 1, "starting_balance": {"EUR": 10000.0}}, clock=FakeClock())


def gateway(root, venue, account="testnet", **kw):
    return Gateway(root, account=account, venue=venue, limits=load_risk_limits(root, "testnet"), clock=FakeClock(),
                   log=logging.getLogger("test.gateway"), **kw)


def req(step="bar-1", qty=0.001, side="buy", origin="testnet_20251207_120000_abcdef", mark=60000.0, **kw):
    return OrderRequest("BTC/EUR", side, qty, mark, origin, step, **kw)


def test_client_order_ids_are_deterministic_and_fit_krakens_cl_ord_id():
    a = client_order_id("testnet_20251207_120000_abcdef", "bar-1")
    assert a == client_order_id("testnet_20251207_120000_abcdef", "bar-1") != client_order_id("x", "bar-1")
    assert len(a) == 18 and a.isalnum()


def test_a_market_order_fills_and_books_the_desk_ledger(root, dummy):
    gw = gateway(root, ExchangeVenue(dummy))
    out = gw.submit(req())
    assert out.status == "filled" and len(out.fills) == 1
    order = dummy.fetch_closed_orders()[0]
    assert order.client_order_id == out.client_order_id
    assert out.fills[0].price == order.average and out.fills[0].fee == order.fee
    ledger = gw.ledger()
    assert ledger.positions["BTC/EUR"].quantity == pytest.approx(0.001)
    assert ledger.cash == pytest.approx(10000.0 - 0.001 * order.average - order.fee)
    assert gw.store.get_intent(out.client_order_id).status == "filled"


def test_the_same_step_never_sends_a_second_order(root, dummy):
    gw = gateway(root, ExchangeVenue(dummy))
    first = gw.submit(req())
    again = gw.submit(req())  # a restarted session or a resumed play asking again for the same step
    assert again.status == "filled" and again.fills == [] and "not sent again" in again.message
    assert len(dummy.fetch_closed_orders()) == 1 and first.client_order_id == again.client_order_id


@pytest.mark.parametrize("fault, status, text, fatal", [
    ("reject", "rejected", "order rejected: Order rejected by the exchange", False),
    ("auth", "rejected", "authentication failed: Invalid API key", True),
])
def test_definite_rejections_release_the_reservation(root, dummy, fault, status, text, fatal):
    dummy.inject(fault, methods=("create_order",))
    gw = gateway(root, ExchangeVenue(dummy))
    out = gw.submit(req())
    assert (out.status, out.message, out.fatal) == (status, text, fatal)
    assert gw.store.open_intents("testnet") == []
    assert dummy.fetch_closed_orders() == [] and dummy.fetch_open_orders() == []


def test_an_unknown_outcome_is_reconciled_by_client_id_never_resubmitted(root, dummy):
    dummy.inject("network", methods=("create_order",))
    gw = gateway(root, ExchangeVenue(dummy))
    out = gw.submit(req())
    # the dummy refused before placing: the lookup finds nothing, the intent stays unknown
    assert out.status == "unknown" and "not resubmitted" in out.message
    assert dummy.fetch_closed_orders() == []
    # new orders of that symbol wait for it; nothing is ever sent for the unknown intent again
    waiting = gw.submit(req("bar-2"))
    assert waiting.status == "blocked" and "order state unknown for intent" in waiting.message
    assert dummy.fetch_closed_orders() == []


def test_insufficient_funds_is_a_rejection(root, dummy):
    no_limits = load_risk_limits(root, "shadow").__class__()
    gw = Gateway(root, account="testnet", venue=ExchangeVenue(dummy), limits=no_limits, clock=FakeClock())
    out = gw.submit(req(qty=10.0))
    assert out.status == "rejected" and out.message.startswith("order rejected: Insufficient funds")


class _ValidateOnly:
    name = "validate-only"

    def create_order(self, symbol, side, type, amount, price=None, *, client_order_id=None, validate_only=False):
        return Order(None, client_order_id, symbol, side, type, amount, price, "validated", validated_only=True)

    def fetch_order_by_client_id(self, cid):
        return None


def test_validate_only_testnet_orders_fill_on_paper(root):
    gw = gateway(root, ExchangeVenue(_ValidateOnly(), PaperVenue(0.0, 0.0)))
    out = gw.submit(req(side="buy", qty=0.005, mark=100.0))
    assert out.status == "filled" and out.fills[0].price == 100.0 and out.fills[0].quantity == 0.005


def test_paper_fill_pays_slippage_and_fee(root):
    gw = gateway(root, PaperVenue(0.001, 10.0), account="paper")
    fill = gw.submit(req(qty=2.0, mark=100.0)).fills[0]
    assert fill.price == pytest.approx(100.1) and fill.fee == pytest.approx(2 * 100.1 * 0.001)


def test_liquidation_only_reduces_and_passes_an_engaged_kill_switch(root):
    from peaktrade.desk.killswitch import engage

    gw = gateway(root, PaperVenue(0.0, 0.0), account="paper")
    assert gw.submit(req(qty=2.0, mark=100.0)).status == "filled"
    engage(root, "drill", "op")
    assert gw.submit(req("bar-2", qty=1.0, mark=100.0)).status == "blocked"
    grow = gw.submit(req("liq-1", qty=1.0, mark=100.0, reduce_only=True))
    assert grow.status == "blocked" and "does not reduce the position" in grow.message
    out = gw.submit(req("liq-2", side="sell", qty=2.0, mark=100.0, reduce_only=True))
    assert out.status == "filled" and gw.ledger().positions["BTC/EUR"].quantity == 0.0


def test_the_live_account_needs_its_gate_callback(root):
    gw = gateway(root, PaperVenue(0.0, 0.0), account="live")
    out = gw.submit(req())
    assert out.status == "blocked" and out.message == "live gate not checked by the caller: refused"
    gw = gateway(root, PaperVenue(0.0, 0.0), account="live", live_gate=lambda: "live gate closed: x")
    assert gw.submit(req()).message == "live gate closed: x"
