from __future__ import annotations

from datetime import timedelta

import pytest

from peaktrade.errors import BlockedError
from peaktrade.policy import gate
from peaktrade.policy.records import ApprovalRecord, Signer
from peaktrade.policy.stages import current_stage

STAGE_MISSING = ("the desk's recorded stage is not promoted yet (initial stage of policies/stages.yaml), not live "
                 "(peaktrade stage promote --to live)")


def live_stage(root):
    from tests.policy.conftest import set_desk_stage

    set_desk_stage(root, "live")


def record(clock, decision="live_activation", hours=4):
    from peaktrade.policy.records import remember

    now = clock.now()
    return remember(ApprovalRecord(decision, f"r-{decision}-{hours}", {"kind": "playbook"}, "alice",
                                   [Signer("bob", ["owner"], "SHA256:x")], now + timedelta(hours=hours), now))


def test_shipped_gate_is_closed_naming_every_half(root, clock):
    res = gate.check_live_gate(root, approvals={}, clock=clock)
    assert not res.allowed
    assert res.missing == ["live.enabled is not true in policies/stages.yaml", STAGE_MISSING,
                           "no valid live_activation approval for this play"]
    with pytest.raises(BlockedError) as exc:
        gate.require_live(root, approvals={}, what="step 'go-live'", clock=clock)
    assert exc.value.message.startswith("step 'go-live' blocked: live gate closed: live.enabled")
    assert exc.value.exit_code == 3


def test_approval_alone_does_not_open_it(root, clock):
    live_stage(root)
    res = gate.check_live_gate(root, approvals={"live_activation": record(clock)}, clock=clock)
    assert res.missing == ["live.enabled is not true in policies/stages.yaml"]


def test_enabled_alone_does_not_open_it(root, clock, set_yaml):
    set_yaml("stages", "enabled: false", "enabled: true")
    live_stage(root)
    res = gate.check_live_gate(root, approvals={}, clock=clock)
    assert res.missing == ["no valid live_activation approval for this play"]


def test_enabled_and_verified_approval_open_it(root, clock, set_yaml):
    set_yaml("stages", "enabled: false", "enabled: true")
    res = gate.check_live_gate(root, approvals={"live_activation": record(clock)}, clock=clock)
    assert res.missing == [STAGE_MISSING]  # the stage half (issue 9): enabled + approval are not enough
    live_stage(root)
    res = gate.check_live_gate(root, approvals={"live_activation": record(clock)}, clock=clock)
    assert res.allowed and res.missing == []
    gate.require_live(root, approvals={"live_activation": record(clock)}, what="x", clock=clock)


@pytest.mark.parametrize("fake", [True, "yes", {"decision": "live_activation"}, 1])
def test_things_that_are_not_verified_records_never_open_it(root, clock, set_yaml, fake):
    set_yaml("stages", "enabled: false", "enabled: true")
    res = gate.check_live_gate(root, approvals={"live_activation": fake}, clock=clock)
    assert not res.allowed
    assert "not a verified approval" in res.message


def test_the_dict_of_a_verified_record_opens_it_but_a_copy_with_changes_does_not(root, clock, set_yaml):
    set_yaml("stages", "enabled: false", "enabled: true")
    live_stage(root)
    as_dict = record(clock).to_dict()
    assert gate.check_live_gate(root, approvals={"live_activation": as_dict}, clock=clock).allowed
    forged = dict(as_dict, expires_at="2099-01-01T00:00:00Z")
    assert not gate.check_live_gate(root, approvals={"live_activation": forged}, clock=clock).allowed
    unknown = dict(as_dict, request_id="never-verified")
    assert not gate.check_live_gate(root, approvals={"live_activation": unknown}, clock=clock).allowed
    handmade = ApprovalRecord("live_activation", "handmade", {}, "x", [], clock.now() + timedelta(hours=1), clock.now())
    assert not gate.check_live_gate(root, approvals={"live_activation": handmade}, clock=clock).allowed


def test_expired_or_wrong_decision_record_refused(root, clock, set_yaml):
    set_yaml("stages", "enabled: false", "enabled: true")
    rec = record(clock, hours=1)
    clock.advance(3600)
    assert "expired" in gate.check_live_gate(root, approvals={"live_activation": rec}, clock=clock).message
    other = record(clock, decision="stage_promotion")
    assert not gate.check_live_gate(root, approvals={"live_activation": other}, clock=clock).allowed


def test_invalid_or_missing_stage_policy_fails_closed(root, clock, set_yaml):
    set_yaml("stages", "enabled: false", "enabled: 'true'")
    res = gate.check_live_gate(root, approvals={"live_activation": record(clock)}, clock=clock)
    assert not res.allowed and "policies/stages.yaml is invalid" in res.message
    root.policy_file("stages").unlink()
    assert not gate.check_live_gate(root, approvals={"live_activation": record(clock)}, clock=clock).allowed


def test_current_stage_defaults_to_initial_then_follows_the_desk_record_not_a_file(root):
    assert current_stage(root) == "testnet"
    (root.var_dir).mkdir(exist_ok=True)
    (root.var_dir / "stage.json").write_text('{"stage": "live"}')  # an editable file counts for nothing
    assert current_stage(root) == "testnet"
    live_stage(root)
    assert current_stage(root) == "live"
