"""The policy actions called the way the interpreter calls them."""

from __future__ import annotations

import pytest

from peaktrade.actions.registry import ActionContext, get
from peaktrade.errors import BlockedError


def ctx(root, clock, approvals=None):
    return ActionContext(root=root, operator="bob", play_id="p1", clock=clock, approvals=approvals or {})


# orders.go_live is gone: live orders are placed by a live session through the order gateway, whose
# gate is tested in tests/gateway and tests/policy/test_approvals9_change.py (live_gate_for_request)


def test_gate_check_and_status_actions(root, clock):
    res = get("live.gate_check").fn(ctx(root, clock), {})
    assert res.blocked and res.data["missing"][0].startswith("live.enabled is not true")
    assert get("stage.status").fn(ctx(root, clock), {}).summary == "stage testnet; live.enabled false"
    assert get("killswitch.status").fn(ctx(root, clock), {"expect": "ACTIVE"}).ok
    engaged = get("killswitch.engage").fn(ctx(root, clock), {"reason": "drill"})
    assert engaged.summary == "kill switch engaged by bob: drill"
    st = get("killswitch.status").fn(ctx(root, clock), {"expect": "ACTIVE"})
    assert not st.ok and st.summary.startswith("kill switch engaged since")


def test_risk_show_action_names_limits_not_set(root, clock, set_yaml):
    set_yaml("risk-limits", "    max_total_exposure: 1000.0\n", "")
    res = get("risk.show").fn(ctx(root, clock), {"stage": "live"})
    assert res.ok and res.summary == "risk limits for live: 5 enforced, NOT enforced: max_total_exposure"
    assert "max_total_exposure            not set  (NOT ENFORCED)" in res.output


def test_blocked_orders_none_found_is_ok(root, clock):
    res = get("risk.blocked_orders").fn(ctx(root, clock), {})
    assert res.ok and res.data == {"count": 0}


def test_promotion_blocked_when_a_checklist_item_is_not_confirmed(root, clock, set_yaml):
    from peaktrade.policy.promote import promote

    set_yaml("stages", "min_days_in_previous_stage: 14", "min_days_in_previous_stage: 0")
    set_yaml("stages", "min_runs_in_previous_stage: 5", "min_runs_in_previous_stage: 0")
    with pytest.raises(BlockedError, match="checklist item not confirmed: Kill switch tested"):
        promote(root, "live", operator="bob", request_id=None, confirm=lambda item: item != "Kill switch tested",
                clock=clock)
