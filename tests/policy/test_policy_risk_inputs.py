"""Fail-closed inputs, the daily reset, and the engine's invariants as properties."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peaktrade.clock import FakeClock
from peaktrade.errors import UsageError
from peaktrade.policy.daily import DailyLossTracker
from peaktrade.policy.limits import RiskLimits, consistency_warnings, load_risk_limits
from peaktrade.policy.risk import OrderIntent, Portfolio, RiskEngine, skip_allowed

NAN, INF = float("nan"), float("inf")
LIMITS = RiskLimits(max_order_notional=100.0, max_symbol_exposure=500.0, max_total_exposure=1000.0,
                    max_open_positions=2, max_daily_loss_abs=50.0, max_daily_loss_pct=2.0)
ENGINE = RiskEngine(LIMITS)


def decide(qty=0.1, side="buy", price=None, marks=None, positions=None, start=1000.0, equity=1000.0):
    pf = Portfolio(positions if positions is not None else {}, marks if marks is not None else {"BTC/EUR": 100.0})
    return ENGINE.check(OrderIntent("BTC/EUR", side, qty, price), pf, day_start_equity=start, equity=equity)


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"qty": NAN}, "quantity is nan"), ({"qty": INF}, "quantity is inf"), ({"qty": 0.0}, "quantity is 0.0"),
    ({"qty": -1.0}, "quantity is -1.0"), ({"qty": "1"}, "non-numeric input"),
    ({"side": "hold"}, "side is 'hold'"),
    ({"marks": {}}, "mark price for BTC/EUR is missing"),
    ({"marks": {"BTC/EUR": NAN}}, "mark price for BTC/EUR is nan"),
    ({"marks": {"BTC/EUR": 0.0}}, "mark price for BTC/EUR is 0.0"), ({"marks": {"BTC/EUR": -INF}}, "is -inf"),
    ({"price": NAN}, "limit price is nan"), ({"price": 0.0}, "limit price is 0.0"),
    ({"start": NAN}, "day start equity is nan"), ({"start": 0.0}, "day start equity is 0.0"),
    ({"equity": INF}, "equity is inf"), ({"equity": -5.0}, "equity is -5.0"),
    ({"positions": {"ETH/EUR": 1.0}}, "mark price for ETH/EUR is missing"),
    ({"positions": {"BTC/EUR": NAN}}, "position of BTC/EUR is nan"),
])
def test_invalid_inputs_fail_closed(kwargs, why):
    d = decide(**kwargs)
    assert not d.allowed
    assert d.codes == ["invalid_input"]
    assert why in d.reasons[0]


def test_portfolio_cache_follows_mutation():
    pf = Portfolio({"BTC/EUR": 4.0}, {"BTC/EUR": 100.0})
    order = OrderIntent("BTC/EUR", "buy", 1.0, 100.0)
    assert ENGINE.check(order, pf, day_start_equity=1000, equity=1000).allowed
    pf.marks["BTC/EUR"] = 101.0  # 5 x 101 = 505 > 500
    assert ENGINE.check(order, pf, day_start_equity=1000, equity=1000).codes == ["max_symbol_exposure"]
    pf.positions["BTC/EUR"] = 3.0
    assert ENGINE.check(order, pf, day_start_equity=1000, equity=1000).allowed
    pf.marks.update({"BTC/EUR": NAN})
    assert ENGINE.check(order, pf, day_start_equity=1000, equity=1000).codes == ["invalid_input"]


def test_daily_reset_lifts_the_halt_at_the_configured_time():
    clock = FakeClock(datetime(2025, 12, 7, 23, 59, 0, tzinfo=UTC))
    tracker = DailyLossTracker("UTC", "00:00", clock)
    pf = Portfolio({}, {"BTC/EUR": 100.0})
    order = OrderIntent("BTC/EUR", "buy", 0.1)
    assert tracker.observe(1000.0) == 1000.0
    d = ENGINE.check(order, pf, day_start_equity=tracker.observe(950.0), equity=950.0)
    assert d.state == "HALTED"
    clock.advance(59)
    assert ENGINE.check(order, pf, day_start_equity=tracker.observe(950.0), equity=950.0).state == "HALTED"
    clock.advance(1)  # 00:00:00 — a new trading day: today's start equity is 950
    d = ENGINE.check(order, pf, day_start_equity=tracker.observe(950.0), equity=950.0)
    assert d.allowed and d.state == "ACTIVE"
    assert tracker.loss(930.0) == 20.0


def test_daily_reset_in_a_local_time_zone():
    # 17:00 Europe/Berlin in December = 16:00 UTC
    clock = FakeClock(datetime(2025, 12, 8, 15, 59, 59, tzinfo=UTC))
    tracker = DailyLossTracker("Europe/Berlin", "17:00", clock)
    assert str(tracker.trading_day()) == "2025-12-07"
    tracker.observe(1000.0)
    clock.advance(1)
    assert str(tracker.trading_day()) == "2025-12-08"
    assert tracker.observe(900.0) == 900.0


def test_unknown_time_zone_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown time zone 'Mars/Olympus'"):
        DailyLossTracker("Mars/Olympus")


def test_shipped_limits_load_and_are_consistent(root):
    live = load_risk_limits(root, "live")
    assert (live.max_order_notional, live.base_currency, live.not_set()) == (100.0, "EUR", [])
    assert consistency_warnings(live) == []
    with pytest.raises(UsageError, match="unknown stage 'prod'"):
        load_risk_limits(root, "prod")


def test_consistency_warnings_name_contradictions():
    w = consistency_warnings(RiskLimits(max_order_notional=1200.0, max_symbol_exposure=2000.0,
                                        max_total_exposure=1000.0))
    assert w[0].startswith("max_symbol_exposure (2000.00) is above max_total_exposure (1000.00)")
    assert any(x.startswith("max_order_notional (1200.00) is above max_total_exposure") for x in w)


def test_skip_live_risk_never_in_live():
    assert skip_allowed("shadow") and skip_allowed("paper") and skip_allowed("testnet")
    assert not skip_allowed("live") and not skip_allowed("LIVE") and not skip_allowed("")


# --- properties ---
finite = st.floats(min_value=1e-6, max_value=1e4, allow_nan=False, allow_infinity=False)
signed = st.floats(min_value=-100, max_value=100, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(qty=finite, grow=st.floats(min_value=1.0, max_value=100.0), side=st.sampled_from(["buy", "sell"]),
       btc=signed, eth=signed, equity=st.floats(min_value=900, max_value=1100))
def test_blocked_stays_blocked_as_quantity_grows(qty, grow, side, btc, eth, equity):
    pf = Portfolio({"BTC/EUR": btc, "ETH/EUR": eth}, {"BTC/EUR": 100.0, "ETH/EUR": 10.0})
    first = ENGINE.check(OrderIntent("BTC/EUR", side, qty), pf, day_start_equity=1000.0, equity=equity)
    if not first.allowed:
        bigger = ENGINE.check(OrderIntent("BTC/EUR", side, qty * grow), pf, day_start_equity=1000.0, equity=equity)
        assert not bigger.allowed


@settings(max_examples=300, deadline=None)
@given(pos=st.floats(min_value=0.01, max_value=1000), frac=st.floats(min_value=0.01, max_value=1.0),
       sign=st.sampled_from([1, -1]), eth=signed)
def test_reducing_order_never_blocked_by_an_exposure_limit(pos, frac, sign, eth):
    pf = Portfolio({"BTC/EUR": sign * pos, "ETH/EUR": eth}, {"BTC/EUR": 100.0, "ETH/EUR": 10.0})
    side = "sell" if sign > 0 else "buy"
    d = ENGINE.check(OrderIntent("BTC/EUR", side, pos * frac), pf, day_start_equity=1000.0, equity=1000.0)
    assert not {"max_symbol_exposure", "max_total_exposure", "max_open_positions"} & set(d.codes)


poison = st.sampled_from([NAN, INF, -INF])


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(["qty", "price", "mark", "other_mark", "position", "start", "equity"]), bad=poison,
       side=st.sampled_from(["buy", "sell"]))
def test_nan_or_inf_anywhere_is_never_allowed(field, bad, side):
    vals = {"qty": 0.1, "price": 100.0, "mark": 100.0, "other_mark": 10.0, "position": 1.0, "start": 1000.0,
            "equity": 1000.0}
    vals[field] = bad
    pf = Portfolio({"BTC/EUR": vals["position"], "ETH/EUR": 1.0},
                   {"BTC/EUR": vals["mark"], "ETH/EUR": vals["other_mark"]})
    d = ENGINE.check(OrderIntent("BTC/EUR", side, vals["qty"], vals["price"]), pf,
                     day_start_equity=vals["start"], equity=vals["equity"])
    assert not d.allowed and d.codes == ["invalid_input"]


def test_incremental_mark_updates_match_a_full_recomputation():
    import random

    rnd = random.Random(3)
    syms = [f"S{i}" for i in range(20)]
    pf = Portfolio({s: rnd.uniform(-5, 5) for s in syms}, {s: rnd.uniform(1, 100) for s in syms})
    pf.stats()
    for i in range(3000):
        s = rnd.choice(syms)
        pf.marks[s] = pf.marks[s] * rnd.uniform(0.98, 1.02)
        if i % 11 == 0:
            pf.positions[s] = 0.0 if i % 22 == 0 else rnd.uniform(-5, 5)
        fast = pf.stats()
        pf.marks.cache = None  # force a full recomputation
        full = pf.stats()
        assert fast[0] == pytest.approx(full[0], rel=1e-9) and fast[1:] == full[1:]
    pf.marks["S1"] = NAN  # an invalid mark voids the cache: fail closed
    assert pf.stats()[2] == "mark price for S1 is nan"
