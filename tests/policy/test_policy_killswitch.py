from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from peaktrade.errors import BlockedError, UsageError
from peaktrade.policy.killswitch import KillSwitch
from peaktrade.policy.records import ApprovalRecord, Signer


def release_record(clock, engaged_since, decision="kill_switch_release"):
    from peaktrade.policy.records import remember

    now = clock.now()
    return remember(ApprovalRecord(
        decision, f"rq-{engaged_since}", {"kind": "kill_switch", "engaged_since": engaged_since}, "carol",
        [Signer("alice", ["owner"], "SHA256:a"), Signer("bob", ["operator"], "SHA256:b")],
        now + timedelta(hours=1), now))


def test_fresh_switch_is_active(root, clock):
    assert KillSwitch(root, clock).status().state == "ACTIVE"


def test_engage_needs_reason_and_persists(root, clock):
    ks = KillSwitch(root, clock)
    with pytest.raises(UsageError):
        ks.engage("  ", "op")
    st = ks.engage("unexpected behaviour", "op")
    assert (st.state, st.reason, st.by) == ("KILLED", "unexpected behaviour", "op")
    assert st.since == st.engaged_since == "2025-12-07T12:00:00Z"
    line = root.operations_log.read_text().splitlines()[-1]
    assert 'operator=op playbook/what="kill-switch engage"' in line
    assert 'outcome=engaged reason="unexpected behaviour"' in line
    assert st.engagement == 1 and st.word == "engaged"


def test_killed_survives_a_process_restart(root):
    code = ("import sys; from peaktrade.root import Root; from peaktrade.policy.killswitch import KillSwitch; "
            "ks = KillSwitch(Root(__import__('pathlib').Path(sys.argv[1]))); "
            "ks.engage('drill', 'op') if sys.argv[2] == 'engage' else None; print(ks.status().state)")
    first = subprocess.run([sys.executable, "-c", code, str(root.path), "engage"], capture_output=True, text=True)
    assert first.stdout.strip() == "KILLED", first.stderr
    second = subprocess.run([sys.executable, "-c", code, str(root.path), "status"], capture_output=True, text=True)
    assert second.stdout.strip() == "KILLED", second.stderr


def test_release_without_approval_refused(root, clock):
    ks = KillSwitch(root, clock)
    ks.engage("drill", "op")
    with pytest.raises(BlockedError, match="needs a verified kill_switch_release approval"):
        ks.release("op", None)
    with pytest.raises(BlockedError):
        ks.release("op", {"decision": "kill_switch_release"})
    assert ks.status().state == "KILLED"


def test_release_with_approval_for_an_old_engagement_refused(root, clock):
    ks = KillSwitch(root, clock)
    old = ks.engage("first", "op").engaged_since
    clock.advance(60)
    ks.engage("second", "op")
    with pytest.raises(BlockedError, match="not the current one"):
        ks.release("op", release_record(clock, old))


def test_release_goes_recovering_then_active_after_cooldown(root, clock):
    ks = KillSwitch(root, clock)
    since = ks.engage("drill", "op").engaged_since
    st = ks.release("alice", release_record(clock, since))
    assert st.state == "RECOVERING" and st.recovering_until == "2025-12-07T12:15:00Z"
    clock.advance(15 * 60 - 1)
    assert ks.status().state == "RECOVERING"
    clock.advance(1)
    assert ks.status().state == "ACTIVE"
    with pytest.raises(UsageError, match="kill switch is released, not engaged"):
        ks.release("alice", release_record(clock, since))


def test_corrupt_legacy_state_file_migrates_as_killed(root, clock):
    root.var_dir.mkdir()
    (root.var_dir / "kill-switch.json").write_text("{not json")
    st = KillSwitch(root, clock).status()
    assert st.state == "KILLED" and "failing closed" in st.reason and "migrated from an unreadable" in st.reason


def test_engine_is_halted_while_killed_and_recovering_then_trades_again(root, clock):
    from peaktrade.policy.limits import load_risk_limits
    from peaktrade.policy.risk import OrderIntent, Portfolio, RiskEngine

    engine = RiskEngine(load_risk_limits(root, "testnet"))
    ks = KillSwitch(root, clock)

    def decide():
        return engine.check(OrderIntent("BTC/EUR", "buy", 0.001), Portfolio({}, {"BTC/EUR": 60000.0}, 1e4),
                            day_start_equity=1e4, equity=1e4, kill_switch_state=ks.status().state)

    assert decide().allowed
    since = ks.engage("drill", "op").engaged_since
    assert (decide().state, decide().reasons) == ("HALTED", ["kill_switch KILLED: no new orders"])
    ks.release("alice", release_record(clock, since))
    assert decide().reasons == ["kill_switch RECOVERING: no new orders"]
    clock.advance(15 * 60)
    assert decide().allowed and decide().state == "ACTIVE"
