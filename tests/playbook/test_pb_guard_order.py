"""Playbook-level guards run cheapest and non-consuming first (environment_mode, kill_switch,
stage_at_least), then approval, then live_gate, and stop at the first refusal: an approval is never
bound to a play that another guard refuses. A dry run checks approvals without binding them."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
import yaml
from pb_helpers import PY, cli, finished, journal, write_playbook

PEOPLE = {"alice": ["owner"], "bob": ["operator"], "carol": ["risk_officer"]}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in PEOPLE:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(d / name)],
                       check=True, capture_output=True)
        out[name] = d / name
    subprocess.run(["ssh-add", "-q", *map(str, out.values())], check=True, capture_output=True)  # the session agent
    return out


@pytest.fixture
def aroot(root, keys):
    data = yaml.safe_load(root.policy_file("roles").read_text())
    data["people"] = [{"name": n, "roles": r, "keys": [keys[n].with_suffix(".pub").read_text().strip()]}
                      for n, r in PEOPLE.items()]
    root.policy_file("roles").write_text("# yaml-language-server: $schema=../schemas/roles.schema.json\n"
                                         + yaml.safe_dump(data, sort_keys=False))
    return root


def _signed_request(root, keys, playbook: str) -> str:
    from peaktrade.policy.approvals import create_request, playbook_subject, sign_request

    doc = create_request(root, "live_activation", playbook_subject(root, playbook, {}), requester="bob",
                         expires_in=timedelta(hours=1))
    rid = doc["request"]["id"]
    for name in ("alice", "carol"):
        sign_request(root, rid, name=name, key_path=keys[name])
    return rid


def _play(root, *args: str) -> tuple[int, list[dict]]:
    """Run a play in-process; (exit code, its journal) - play ids of one second do not sort by time."""
    before = set(root.plays_dir.iterdir()) if root.plays_dir.is_dir() else set()
    code = cli(root, "play", *args)
    (new,) = set(root.plays_dir.iterdir()) - before
    return code, journal(root, new.name)


def _used_by(root, rid: str):
    return json.loads((root.var_dir / "approvals" / f"{rid}.json").read_text()).get("used_by")


def _set_mode(root, mode: str) -> None:
    cfg = root.config_file
    text = cfg.read_text()
    assert 'mode = "testnet"' in text or f'mode = "{mode}"' in text
    cfg.write_text(text.replace('mode = "testnet"', f'mode = "{mode}"'))


GUARDED = f"""
    guards:
      - approval: live_activation
      - environment_mode: live
    steps:
      - {{id: look, title: Look, effect: read, run: ["{PY}", "-c", "print('looked')"]}}
    """


def test_environment_mode_refuses_before_the_approval_is_bound(aroot, keys):
    from peaktrade.policy.stages import write_stage_record

    write_playbook(aroot, "guarded", GUARDED)
    # the live gate's other halves, so that only the guards under test decide (the stage is signed too)
    stages = aroot.policy_file("stages")
    stages.write_text(stages.read_text().replace("enabled: false", "enabled: true"))
    write_stage_record(aroot, {"stage": "live", "since": "2026-01-01T00:00:00Z", "by": "test", "history": []})
    rid = _signed_request(aroot, keys, "guarded")
    code, recs = _play(aroot, "guarded", "--operator", "bob")
    assert code == 3
    evaluated = [(r["guard"], r["ok"], r["message"]) for r in recs if r["type"] == "guard_evaluated"]
    assert evaluated[0] == ("environment_mode", False, "environment.mode is testnet, this playbook needs live")
    # every guard is reported, but the approval is only checked, not bound, after an earlier refusal
    assert [g for g, _, _ in evaluated] == ["environment_mode", "approval"]
    assert evaluated[1][1] is True and rid in evaluated[1][2]
    assert evaluated[1][2].endswith("(checked, not bound: an earlier guard refused the play)")
    assert recs[-1]["outcome"] == "blocked" and not finished(recs)
    assert _used_by(aroot, rid) is None  # not consumed by the refused play

    # a dry run checks it but does not bind it either
    _set_mode(aroot, "live")
    code, recs = _play(aroot, "guarded", "--operator", "bob", "--dry-run")
    assert code == 0
    ev = [r for r in recs if r["type"] == "guard_evaluated"]
    assert [r["guard"] for r in ev] == ["environment_mode", "approval"] and all(r["ok"] for r in ev)
    assert ev[1]["message"].endswith("(checked, not bound: dry run)") and rid in ev[1]["message"]
    assert _used_by(aroot, rid) is None

    # ... so the real play can still use it, and binds it once every guard passed; its run: step is live
    # (environment.mode is live, issue 9) and passes the open gate with the operator's identity proven
    code, recs = _play(aroot, "guarded", "--operator", "bob")
    assert code == 0
    assert _used_by(aroot, rid)["by"] == recs[0]["play_id"]
    assert [r["fingerprint"] for r in recs if r["type"] == "operator_identified"][0].startswith("SHA256:")


def test_guards_run_in_the_fixed_order_and_all_refusals_are_reported(root):
    write_playbook(root, "ordered", """
        guards:
          - live_gate: true
          - approval: live_activation
          - stage_at_least: live
          - kill_switch: released
          - environment_mode: testnet
        steps:
          - {id: look, title: Look, effect: read, action: test.echo, with: {message: hi}}
        """)
    assert cli(root, "play", "ordered") == 3
    evaluated = [(r["guard"], r["ok"]) for r in journal(root) if r["type"] == "guard_evaluated"]
    assert evaluated == [("environment_mode", True), ("kill_switch", True), ("stage_at_least", False),
                         ("approval", False), ("live_gate", False)]


APPROVE_STEP = f"""
    steps:
      - {{id: approval, title: Two people approve, effect: read, approve: live_activation}}
      - {{id: after, title: After, effect: read, run: ["{PY}", "-c", "print('after')"]}}
    """


def test_dry_run_approve_step_checks_without_binding(aroot, keys):
    write_playbook(aroot, "approving", APPROVE_STEP)
    rid = _signed_request(aroot, keys, "approving")
    code, recs = _play(aroot, "approving", "--operator", "bob", "--dry-run")
    assert code == 0
    rec = finished(recs)["approval"]
    assert rec["status"] == "would-run"
    assert rec["summary"].startswith(f"would require approval live_activation: request {rid} is valid, signed by")
    assert "(checked, not bound: dry run)" in rec["summary"] and not rec["approvals"]
    assert _used_by(aroot, rid) is None
    code, recs = _play(aroot, "approving", "--operator", "bob")
    assert code == 0
    assert _used_by(aroot, rid)["by"] == recs[0]["play_id"]


def test_dry_run_approve_step_without_approval_is_blocked_as_the_real_play_would_be(aroot):
    write_playbook(aroot, "approving", APPROVE_STEP)
    assert cli(aroot, "play", "approving", "--operator", "bob", "--dry-run") == 3
    rec = finished(journal(aroot))["approval"]
    assert rec["status"] == "blocked" and "no live_activation approval request for playbook approving" in rec["summary"]
