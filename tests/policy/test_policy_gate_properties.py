"""No combination of config, params, environment and flags opens the live gate without
live.enabled: true AND a verified live_activation approval."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaktrade.clock import FakeClock
from peaktrade.policy.gate import check_live_gate
from peaktrade.policy.records import ApprovalRecord, Signer, remember

REPO = Path(__file__).resolve().parents[2]
CLOCK = FakeClock()
NOW = CLOCK.now()


def _record(rid, decision="live_activation", hours=2.0, keep=True):
    rec = ApprovalRecord(decision, rid, {"kind": "playbook"}, "bob", [Signer("alice", ["owner"], "SHA256:a")],
                         NOW + timedelta(hours=hours), NOW)
    return remember(rec) if keep else rec


VALID = _record("valid")
APPROVALS = {
    "missing": None, "true": True, "string": "approved", "empty": {},
    "forged_dict": dict(VALID.to_dict(), request_id="forged"),
    "altered_dict": dict(VALID.to_dict(), signers=[]),
    "not_remembered": _record("handmade", keep=False),
    "expired": _record("expired", hours=-1.0),
    "wrong_decision": _record("other", decision="stage_promotion"),
    "valid_record": VALID, "valid_dict": VALID.to_dict(),
}
ENABLED = {"false": "false", "true": "true", "string_true": "'true'", "one": "1", "yes_string": "'yes'",
           "null": "null", "missing": None}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(enabled=st.sampled_from(sorted(ENABLED)), approval=st.sampled_from(sorted(APPROVALS)),
       mode=st.sampled_from(["paper", "testnet", "live"]),
       env=st.dictionaries(st.sampled_from(["PEAKTRADE_LIVE", "PEAKTRADE_LIVE_ENABLED", "LIVE", "PEAKTRADE_FORCE",
                                            "PEAKTRADE_SKIP_LIVE_GATE"]), st.sampled_from(["1", "true", "yes"]),
                           max_size=3),
       extra_key=st.sampled_from([None, "live", "live_activation ", "LIVE_ACTIVATION", "approved"]),
       stage=st.sampled_from(["shadow", "testnet", "live"]))
def test_gate_opens_only_with_enabled_and_a_verified_approval(root, enabled, approval, mode, env, extra_key, stage):
    from tests.policy.conftest import set_desk_stage

    set_desk_stage(root, stage)  # the desk's recorded stage: the third half (issue 9)
    stages = root.policy_file("stages")
    text = (REPO / "policies" / "stages.yaml").read_text()
    base = text.split("live:\n  enabled: ")[0]
    rest = text.split("live:\n  enabled: ")[1].split("\n", 1)[1]
    value = ENABLED[enabled]
    stages.write_text(base + ("" if value is None else f"live:\n  enabled: {value}\n") + rest)
    cfg = root.config_file
    cfg.write_text((REPO / "config" / "config.toml").read_text().replace('mode = "testnet"', f'mode = "{mode}"'))
    approvals = {} if APPROVALS[approval] is None else {"live_activation": APPROVALS[approval]}
    if extra_key:
        approvals[extra_key] = VALID  # a valid record under a key the gate does not read
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        res = check_live_gate(root, approvals=json.loads(json.dumps(approvals, default=str))
                              if approval == "valid_dict" else approvals, clock=CLOCK)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    should_open = enabled == "true" and approval in ("valid_record", "valid_dict") and stage == "live"
    assert res.allowed is should_open, (enabled, approval, res.message)
    if not res.allowed:
        assert res.message.startswith("live gate closed: ")
