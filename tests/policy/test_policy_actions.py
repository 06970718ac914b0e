"""The policy actions called the way the interpreter calls them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from peaktrade.actions.registry import ActionContext, get
from peaktrade.errors import BlockedError, UsageError
from peaktrade.policy.records import ApprovalRecord, Signer, remember


def ctx(root, clock, approvals=None):
    return ActionContext(root=root, operator="bob", play_id="p1", clock=clock, approvals=approvals or {})


def test_go_live_is_blocked_by_the_shipped_gate_before_any_exchange_is_touched(root, clock):
    spec = get("orders.go_live")
    assert spec.live_sensitive and spec.effect == "act"
    res = spec.fn(ctx(root, clock), {"mode": "live", "symbol": "BTC/EUR", "side": "buy", "quantity": 0.0001})
    assert res.blocked and not res.ok
    assert res.summary.startswith("orders.go_live blocked: live gate closed: live.enabled is not true")
    assert spec.describe({"side": "buy", "quantity": 0.0001, "symbol": "BTC/EUR"}) == \
        "would send the first LIVE order: buy 0.0001 BTC/EUR at market"


def test_go_live_with_an_open_gate_reaches_the_exchange_factory(root, clock, set_yaml):
    from tests.policy.conftest import set_desk_stage

    set_yaml("stages", "enabled: false", "enabled: true")
    set_desk_stage(root, "live")  # the third half of the gate (issue 9)
    rec = remember(ApprovalRecord("live_activation", "go-live-test", {"kind": "playbook"}, "bob",
                                  [Signer("alice", ["owner"], "SHA256:a")], clock.now() + timedelta(hours=1),
                                  clock.now()))
    # the shipped config uses the offline dummy exchange, which refuses live: the gate opened, the factory said no
    with pytest.raises(UsageError, match="dummy"):
        get("orders.go_live").fn(ctx(root, clock, {"live_activation": rec.to_dict()}),
                                 {"mode": "live", "symbol": "BTC/EUR", "side": "buy", "quantity": 0.0001})


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
