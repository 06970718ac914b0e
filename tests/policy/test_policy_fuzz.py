"""Whatever lands in a policy file or reaches the engine, nothing crashes and nothing opens."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaktrade.clock import FakeClock
from peaktrade.errors import UsageError
from peaktrade.policy.gate import check_live_gate
from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.risk import OrderIntent, Portfolio, RiskEngine

yaml_like = st.one_of(
    st.text(max_size=200),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                 lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                 max_leaves=12).map(repr),
    st.sampled_from(["live: {enabled: true}", "live:\n  enabled: true\n", "{{", "- - -", "live: &a [*a]",
                     "stages: [shadow, testnet, live]\ninitial_stage: live\nlive: {enabled: true}\ntransitions: []"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=yaml_like)
def test_any_stages_file_keeps_the_gate_closed_without_crashing(root, text):
    root.policy_file("stages").write_text(text)
    res = check_live_gate(root, approvals={"live_activation": {"request_id": "x"}}, clock=FakeClock())
    assert not res.allowed


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=yaml_like)
def test_any_risk_limits_file_loads_or_is_a_usage_error(root, text):
    from peaktrade.policy.limits import load_risk_limits

    root.policy_file("risk-limits").write_text(text)
    try:
        load_risk_limits(root, "live")
    except UsageError:
        pass


anything = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(), st.text(max_size=3),
                     st.lists(st.integers(), max_size=2))


@settings(max_examples=400, deadline=None)
@given(qty=anything, price=anything, side=anything, mark=anything, pos=anything, start=anything, equity=anything)
def test_the_engine_never_raises_and_junk_is_never_allowed(qty, price, side, mark, pos, start, equity):
    eng = RiskEngine(RiskLimits(max_order_notional=100.0, max_daily_loss_abs=50.0))
    d = eng.check(OrderIntent("X", side, qty, price), Portfolio({"X": pos}, {"X": mark}),
                  day_start_equity=start, equity=equity)
    def positive(x):
        return isinstance(x, int | float) and 0 < x < float("inf")

    if d.allowed:  # only ever with a real side and positive, finite numbers where they matter
        assert side in ("buy", "sell") and positive(qty) and positive(mark) and positive(start)
        assert positive(equity) and (price is None or positive(price))
    assert isinstance(d.checks, list)  # the breakdown is computable for any decision
