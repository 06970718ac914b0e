from __future__ import annotations

import pytest

from peaktrade.clock import FakeClock
from peaktrade.exchange.base import (
    ExchangeAuthenticationError,
    ExchangeClient,
    ExchangeNetworkError,
    ExchangeOrderError,
    ExchangeRateLimitError,
)
from peaktrade.exchange.dummy import DummyExchange

from .conftest import DUMMY


def make(clock: FakeClock, **over) -> DummyExchange:
    return DummyExchange({**DUMMY, **over}, clock=clock)


def test_dummy_satisfies_protocol(clock):
    assert isinstance(make(clock), ExchangeClient)


def test_two_instances_see_the_same_series(clock):
    a, b = make(clock), make(FakeClock(clock.now()))
    assert a.fetch_ohlcv("BTC/EUR", "1m", limit=20) == b.fetch_ohlcv("BTC/EUR", "1m", limit=20)
    assert a.fetch_ticker("ETH/EUR")["last"] == b.fetch_ticker("ETH/EUR")["last"]
    c = make(FakeClock(clock.now()), seed=7)
    assert c.fetch_ticker("ETH/EUR")["last"] != a.fetch_ticker("ETH/EUR")["last"]


def test_price_moves_with_the_bar_clock_and_stays_in_band(clock):
    ex = make(clock)
    prices = []
    for _ in range(300):
        prices.append(ex.fetch_ticker("BTC/EUR")["last"])
        clock.advance(1)
    assert len(set(prices)) > 250  # a new tick every bar_seconds
    assert all(30000 <= p <= 120000 for p in prices)
    steps = [abs(b / a - 1) for a, b in zip(prices, prices[1:], strict=False)]
    assert max(steps) < 0.002 * 6  # a random walk with the configured volatility, not jumps


def test_ohlcv_aligned_to_timeframe(clock):
    ex = make(clock)
    bars = ex.fetch_ohlcv("BTC/EUR", "1m", limit=10)
    assert len(bars) == 10
    assert all(b[0] % 60000 == 0 for b in bars)
    assert [b2[0] - b1[0] for b1, b2 in zip(bars, bars[1:], strict=False)] == [60000] * 9
    assert bars[-1][0] == int(clock.now().timestamp() // 60) * 60000  # the forming candle is last
    for _, o, h, low, c, v in bars:
        assert low <= min(o, c) <= max(o, c) <= h and v > 0
    since = bars[3][0]
    assert ex.fetch_ohlcv("BTC/EUR", "1m", since=since, limit=3) == bars[3:6]


def test_market_order_fills_with_slippage_and_fee(clock):
    ex = make(clock)
    last = ex.fetch_ticker("BTC/EUR")["last"]
    order = ex.create_order("BTC/EUR", "buy", "market", 0.01, client_order_id="c1")
    assert order.status == "closed" and order.filled == 0.01
    assert order.average == pytest.approx(last * 1.0005)
    assert order.fee == pytest.approx(0.01 * last * 1.0005 * 0.0026)
    bal = ex.fetch_balance()
    assert bal["BTC"] == pytest.approx(0.01)
    assert bal["EUR"] == pytest.approx(10000 - 0.01 * last * 1.0005 - order.fee)


def test_client_order_id_never_places_twice(clock):
    ex = make(clock)
    first = ex.create_order("BTC/EUR", "buy", "market", 0.01, client_order_id="same")
    again = ex.create_order("BTC/EUR", "buy", "market", 0.01, client_order_id="same")
    assert again.id == first.id
    assert len(ex.fetch_closed_orders()) == 1
    assert ex.fetch_order_by_client_id("same").id == first.id
    assert ex.fetch_order_by_client_id("other") is None


def test_limit_rests_until_crossed_or_cancelled(clock):
    ex = make(clock)
    last = ex.fetch_ticker("BTC/EUR")["last"]
    far = ex.create_order("BTC/EUR", "buy", "limit", 0.01, last * 0.5, client_order_id="far")
    assert far.status == "open" and [o.id for o in ex.fetch_open_orders()] == [far.id]
    ex.cancel_order(far.id)
    assert ex.fetch_open_orders() == [] and far.status == "canceled"
    near = ex.create_order("BTC/EUR", "buy", "limit", 0.01, last * 1.5)
    ex.fetch_ticker("BTC/EUR")  # the next call sees the price below the limit
    assert near.status == "closed" and near.average == pytest.approx(last * 1.5)


def test_validate_only_places_nothing(clock):
    ex = make(clock)
    order = ex.create_order("BTC/EUR", "buy", "market", 0.01, validate_only=True, client_order_id="v")
    assert order.validated_only and order.id is None and order.status == "validated"
    assert ex.fetch_open_orders() == [] and ex.fetch_closed_orders() == []
    assert ex.fetch_balance()["EUR"] == 10000.0
    with pytest.raises(ExchangeOrderError, match="Insufficient funds"):
        ex.create_order("BTC/EUR", "buy", "market", 100, validate_only=True)


def test_rejects_bad_orders(clock):
    ex = make(clock)
    with pytest.raises(ExchangeOrderError, match="Unknown symbol 'DOGE/EUR'"):
        ex.create_order("DOGE/EUR", "buy", "market", 1)
    with pytest.raises(ExchangeOrderError, match="needs a price"):
        ex.create_order("BTC/EUR", "buy", "limit", 0.01)
    with pytest.raises(ExchangeOrderError, match="Insufficient funds"):
        ex.create_order("BTC/EUR", "sell", "market", 1)


def test_fault_injection(clock):
    ex = make(clock)
    ex.inject("network")
    with pytest.raises(ExchangeNetworkError) as err:
        ex.fetch_ticker("BTC/EUR")
    assert err.value.log_line() == "[EXCHANGE] ExchangeNetworkError: Request timeout"
    ex.inject("rate_limit", methods=("fetch_balance",))
    ex.fetch_ticker("BTC/EUR")  # not the targeted method
    with pytest.raises(ExchangeRateLimitError, match="Rate limit exceeded"):
        ex.fetch_balance()
    ex.inject("auth")
    with pytest.raises(ExchangeAuthenticationError) as auth:
        ex.server_time()
    assert auth.value.halt
    ex.inject("reject")
    ex.fetch_balance()  # a reject only hits orders
    with pytest.raises(ExchangeOrderError):
        ex.create_order("BTC/EUR", "buy", "market", 0.01)
    assert ex.fetch_closed_orders() == []


def test_factory_builds_dummy_and_refuses_live(clock):
    from peaktrade.config import Config
    from peaktrade.errors import UsageError
    from peaktrade.exchange.factory import make_exchange

    cfg = Config({"environment": {"mode": "testnet"}, "exchange": {"default_type": "dummy", "dummy": DUMMY}})
    ex = make_exchange(cfg, mode="testnet", clock=clock)
    assert isinstance(ex, DummyExchange) and ex.fetch_ticker("BTC/EUR")["last"] > 0
    with pytest.raises(UsageError, match="dummy exchange cannot trade live"):
        make_exchange(cfg, mode="live", clock=clock)


def test_cached_candles_equal_fresh_ones(clock):
    warm = make(clock)
    warm.fetch_ohlcv("BTC/EUR", "1m", limit=50)
    clock.advance(300)
    fresh = make(FakeClock(clock.now()))
    assert warm.fetch_ohlcv("BTC/EUR", "1m", limit=50) == fresh.fetch_ohlcv("BTC/EUR", "1m", limit=50)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ORDER = st.tuples(st.sampled_from(["buy", "sell"]), st.sampled_from(["market", "limit"]),
                  st.floats(0.0001, 0.2), st.sampled_from([None, "a", "b", "c"]), st.booleans(),
                  st.integers(0, 120))


@settings(max_examples=60, deadline=None)
@given(st.lists(ORDER, max_size=25))
def test_orders_never_duplicate_and_balances_stay_non_negative(orders):
    from datetime import UTC, datetime

    clock = FakeClock(datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC))
    ex = make(clock)
    placed_cids: set[str] = set()
    for side, otype, amount, cid, validate, wait in orders:
        clock.advance(wait)
        price = ex.fetch_ticker("BTC/EUR")["last"] * (0.999 if side == "buy" else 1.001)
        try:
            order = ex.create_order("BTC/EUR", side, otype, round(amount, 6), price if otype == "limit" else None,
                                    client_order_id=cid, validate_only=validate)
        except ExchangeOrderError:
            continue
        if order.id and cid:
            placed_cids.add(cid)
        assert all(v >= -1e-9 for v in ex.fetch_balance().values())
    everything = ex.fetch_open_orders() + ex.fetch_closed_orders()
    with_cid = [o.client_order_id for o in everything if o.client_order_id]
    assert len(with_cid) == len(set(with_cid)) == len(placed_cids)
