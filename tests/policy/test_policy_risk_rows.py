"""Every row of the DESIGN 5 table at, just below and just above its limit, buys and sells."""

from __future__ import annotations

import pytest

from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.risk import OrderIntent, Portfolio, RiskEngine, format_blocked

MARKS = {"BTC/EUR": 100.0, "ETH/EUR": 10.0, "SOL/EUR": 5.0}
EPS = 1e-4


def engine(**limits):
    return RiskEngine(RiskLimits(**limits))


def check(eng, side, qty, positions=None, price=None, symbol="BTC/EUR", start=1000.0, equity=1000.0, ks="ACTIVE"):
    pf = Portfolio(positions or {}, MARKS, 1000.0)
    return eng.check(OrderIntent(symbol, side, qty, price), pf, day_start_equity=start, equity=equity,
                     kill_switch_state=ks)


# --- max_order_notional: notional > limit blocks that order (opening or reducing) ---
@pytest.mark.parametrize("side", ["buy", "sell"])
@pytest.mark.parametrize(("qty", "allowed"), [(1.0, True), (1.0 - EPS, True), (1.0 + EPS, False)])
def test_order_notional_at_below_above(side, qty, allowed):
    d = check(engine(max_order_notional=100.0), side, qty)
    assert d.allowed is allowed
    if not allowed:
        assert d.reasons == [f"max_order_notional exceeded ({qty * 100:.2f} > 100.00)"]


def test_order_notional_uses_limit_price_when_given():
    eng = engine(max_order_notional=100.0)
    assert check(eng, "buy", 1.0, price=100.0).allowed
    assert not check(eng, "buy", 1.0, price=100.02).allowed
    assert check(eng, "buy", 2.0, price=50.0).allowed  # the mark (100) would have made it 200


def test_order_notional_also_binds_reducing_orders():
    d = check(engine(max_order_notional=100.0), "sell", 2.0, positions={"BTC/EUR": 5.0})
    assert d.reasons == ["max_order_notional exceeded (200.00 > 100.00)"]


def test_blocked_line_has_the_seed_format():
    d = check(engine(max_order_notional=100.0), "buy", 5.0)
    assert format_blocked(d) == "[RISK] Order blocked: max_order_notional exceeded (500.00 > 100.00)"
    assert d.codes == ["max_order_notional"]


# --- max_symbol_exposure: |position after| x mark > limit; reducing orders pass ---
@pytest.mark.parametrize(("side", "pos"), [("buy", 4.0), ("sell", -4.0)])
@pytest.mark.parametrize(("qty", "allowed"), [(1.0, True), (1.0 - EPS, True), (1.0 + EPS, False)])
def test_symbol_exposure_opening_side(side, pos, qty, allowed):
    d = check(engine(max_symbol_exposure=500.0), side, qty, positions={"BTC/EUR": pos})
    assert d.allowed is allowed
    if not allowed:
        assert d.codes == ["max_symbol_exposure"]


@pytest.mark.parametrize(("side", "pos"), [("sell", 7.0), ("buy", -7.0)])
@pytest.mark.parametrize("qty", [0.5, 1.0, 2.0, 1.0 + EPS])
def test_symbol_exposure_reducing_orders_pass_even_above_the_limit(side, pos, qty):
    d = check(engine(max_symbol_exposure=500.0), side, qty, positions={"BTC/EUR": pos})
    assert d.allowed, d.reasons


def test_symbol_exposure_flip_through_zero_counts_the_new_side():
    eng = engine(max_symbol_exposure=500.0)
    # 4 -> -5 increases |position| (4 -> 5), so the limit applies: 500 is not > 500
    assert check(eng, "sell", 9.0, positions={"BTC/EUR": 4.0}).allowed
    d = check(eng, "sell", 9.0 + EPS, positions={"BTC/EUR": 4.0})
    assert d.codes == ["max_symbol_exposure"]


def test_symbol_exposure_is_per_symbol():
    d = check(engine(max_symbol_exposure=500.0), "buy", 1.0, positions={"ETH/EUR": 1000.0})
    assert d.allowed  # ETH exposure 10,000 does not concern a BTC order


# --- max_total_exposure: sum |position after| x mark > limit; reducing orders pass ---
@pytest.mark.parametrize(("side", "btc"), [("buy", 4.0), ("sell", -4.0)])
@pytest.mark.parametrize(("qty", "allowed"), [(1.0, True), (1.0 - EPS, True), (1.0 + EPS, False)])
def test_total_exposure_at_below_above(side, btc, qty, allowed):
    d = check(engine(max_total_exposure=1000.0), side, qty, positions={"BTC/EUR": btc, "ETH/EUR": -50.0})
    assert d.allowed is allowed
    assert d.state == "ACTIVE"
    if not allowed:
        assert d.reasons == [f"max_total_exposure exceeded ({900 + qty * 100:.2f} > 1000.00)"]


def test_total_exposure_above_limit_means_reducing_state():
    eng = engine(max_total_exposure=1000.0)
    positions = {"BTC/EUR": 6.0, "ETH/EUR": 50.0}  # 1100
    sell = check(eng, "sell", 1.0, positions=positions)
    assert sell.allowed and sell.state == "REDUCING"
    buy_other = check(eng, "buy", 1.0, positions=positions, symbol="ETH/EUR")
    assert not buy_other.allowed and buy_other.state == "REDUCING"
    assert buy_other.codes == ["max_total_exposure"]
    at_limit = check(eng, "sell", 1.0, positions={"BTC/EUR": 5.0, "ETH/EUR": 50.0})
    assert at_limit.state == "ACTIVE"  # 1000 is not above 1000


# --- max_open_positions: blocks orders opening a new symbol when the count after > limit ---
@pytest.mark.parametrize("side", ["buy", "sell"])
def test_open_positions_at_and_above(side):
    eng = engine(max_open_positions=2)
    one = {"BTC/EUR": 1.0}
    two = {"BTC/EUR": 1.0, "ETH/EUR": -1.0}
    assert check(eng, side, 1.0, positions=one, symbol="SOL/EUR").allowed  # 2 after: at the limit
    d = check(eng, side, 1.0, positions=two, symbol="SOL/EUR")
    assert d.reasons == ["max_open_positions exceeded (3 > 2)"]
    assert check(eng, side, 1.0, positions=two, symbol="BTC/EUR").allowed  # not a new symbol


def test_open_positions_above_limit_still_lets_existing_symbols_trade():
    eng = engine(max_open_positions=1)
    two = {"BTC/EUR": 1.0, "ETH/EUR": 1.0}
    assert check(eng, "buy", 0.5, positions=two).allowed
    assert check(eng, "sell", 1.0, positions=two).allowed


# --- daily loss: loss >= limit halts everything, reducing orders included ---
@pytest.mark.parametrize(("equity", "halted"), [(950.0, True), (950.0 + 0.01, False), (950.0 - 0.01, True)])
def test_daily_loss_abs_at_below_above(equity, halted):
    eng = engine(max_daily_loss_abs=50.0)
    for side, pos in (("buy", {}), ("sell", {}), ("sell", {"BTC/EUR": 1.0})):
        d = check(eng, side, 0.5, positions=pos, equity=equity)
        assert d.allowed is not halted
        assert d.state == ("HALTED" if halted else "ACTIVE")
    if halted:
        assert d.reasons == [f"max_daily_loss_abs reached ({1000 - equity:.2f} >= 50.00)"]


@pytest.mark.parametrize(("equity", "halted"), [(980.0, True), (980.01, False), (979.99, True)])
def test_daily_loss_pct_at_below_above(equity, halted):
    d = check(engine(max_daily_loss_pct=2.0), "sell", 0.1, positions={"BTC/EUR": 1.0}, equity=equity)
    assert d.allowed is not halted and (d.state == "HALTED") is halted
    if halted:
        assert d.codes == ["max_daily_loss_pct"]


def test_a_gain_is_not_a_loss():
    assert check(engine(max_daily_loss_abs=50.0), "buy", 0.1, equity=2000.0).allowed


@pytest.mark.parametrize("ks", ["KILLED", "RECOVERING", "garbage"])
def test_kill_switch_not_active_halts(ks):
    d = check(engine(), "sell", 0.1, positions={"BTC/EUR": 1.0}, ks=ks)
    assert (d.allowed, d.state, d.reasons) == (False, "HALTED", [f"kill_switch {ks}: no new orders"])


# --- warnings: at or above factor x limit, not a breach ---
def test_warning_levels():
    eng = RiskEngine(RiskLimits(max_order_notional=100.0, max_daily_loss_abs=50.0, warning_threshold_factor=0.8))
    levels = {c.name: c.level for c in check(eng, "buy", 0.8, equity=960.0).checks}
    assert levels == {"max_order_notional": "warning", "max_symbol_exposure": "not_set",
                      "max_total_exposure": "not_set", "max_open_positions": "not_set",
                      "max_daily_loss_abs": "warning", "max_daily_loss_pct": "not_set"}
    d = check(eng, "buy", 0.79, equity=960.01)
    assert d.allowed and d.warnings == []
    assert [w.name for w in check(eng, "buy", 0.8, equity=1000).warnings] == ["max_order_notional"]


def test_explicit_warning_factor_overrides_the_policy():
    eng = RiskEngine(RiskLimits(max_order_notional=100.0), warning_factor=0.5)
    assert [w.name for w in check(eng, "buy", 0.5).warnings] == ["max_order_notional"]


def test_reducing_breach_is_reported_but_not_blocking():
    d = check(engine(max_symbol_exposure=500.0), "sell", 1.0, positions={"BTC/EUR": 7.0})
    row = {c.name: c for c in d.checks}["max_symbol_exposure"]
    assert (row.value, row.level, row.blocking) == (600.0, "breach", False)
    assert d.to_dict()["allowed"] is True


def test_limits_not_set_are_not_enforced():
    assert check(engine(), "buy", 1e6).allowed


def test_float_rounding_at_the_limit_is_at_the_limit():
    # 0.7 x 100 = 70.00000000000001 in binary floating point: still "at" a limit of 70
    eng = engine(max_order_notional=70.0, max_symbol_exposure=70.0, max_total_exposure=70.0)
    d = check(eng, "buy", 0.7, price=100.0, symbol="BTC/EUR")
    assert d.allowed and {c.name: c.level for c in d.checks}["max_order_notional"] == "warning"
    assert not check(eng, "buy", 0.70001, price=100.0).allowed
    # a daily loss that is the limit up to rounding halts
    assert check(engine(max_daily_loss_abs=0.3), "buy", 0.1, start=1000.3, equity=1000.0).state == "HALTED"
