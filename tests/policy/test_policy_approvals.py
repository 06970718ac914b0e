"""Approvals with real ssh-keygen keys: what passes, and each refusal with its own reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from peaktrade.errors import BlockedError, UsageError
from peaktrade.hashing import playbook_hash, policies_hash
from peaktrade.policy.approvals import (
    create_request,
    load_request,
    parse_duration,
    playbook_subject,
    sign_request,
    verify_for_play,
)
from peaktrade.policy.verify import verify_doc


def new_request(root, clock, requester="bob", decision="live_activation", params=None, hours=4):
    from peaktrade.hashing import file_sha256

    subject = playbook_subject(root, "approve-demo", params or {})
    # a risk_limit_change binds the change itself (issue 9): here the working tree as the signed "after"
    change = {"base": "HEAD", "before": {}, "changes": [],
              "after": {p.name: file_sha256(p) for p in root.policies_dir.glob("*.yaml")}} \
        if decision == "risk_limit_change" else None
    return create_request(root, decision, subject, requester=requester, expires_in=timedelta(hours=hours),
                          clock=clock, policy_change=change)["request"]["id"]


def play(root, clock, play_id="play-1", params=None, requester="bob"):
    return verify_for_play(root, "live_activation", playbook="approve-demo",
                           playbook_hash=playbook_hash(root, "approve-demo"),
                           params={"size": 10.0, "note": "none", **(params or {})},
                           policies_hash=policies_hash(root), play_id=play_id, requester=requester, clock=clock)


def refused(root, clock, rid):
    with pytest.raises(BlockedError) as exc:
        verify_doc(root, load_request(root, rid), clock=clock)
    return exc.value


def test_two_distinct_valid_signers_pass_and_the_record_names_them(aroot, keys, clock):
    rid = new_request(aroot, clock)
    sign_request(aroot, rid, name="alice", key_path=keys["alice"], clock=clock)
    sign_request(aroot, rid, name="erin", key_path=keys["erin"], clock=clock)
    rec = play(aroot, clock)
    d = rec.to_dict()
    assert d["decision"] == "live_activation" and d["request_id"] == rid and d["play_id"] == "play-1"
    assert [(s["name"], s["roles"]) for s in d["signers"]] == [("alice", ["owner"]), ("erin", ["operator"])]
    assert all(s["fingerprint"].startswith("SHA256:") for s in d["signers"])
    assert json.loads(json.dumps(d)) == d
    assert play(aroot, clock).request_id == rid  # same play (resume): still valid


def test_replay_by_another_play_refused(aroot, keys, clock):
    rid = new_request(aroot, clock)
    for n in ("alice", "erin"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    play(aroot, clock, "play-1")
    with pytest.raises(BlockedError, match=rf"approval {rid} was already used by play play-1 \(replay refused\)"):
        play(aroot, clock, "play-2")


def test_one_person_signing_twice_refused(aroot, keys, clock):
    rid = new_request(aroot, clock)
    sign_request(aroot, rid, name="alice", key_path=keys["alice"], clock=clock)
    with pytest.raises(UsageError, match="alice has already signed"):
        sign_request(aroot, rid, name="alice", key_path=keys["alice"], clock=clock)
    # a hand-edited file with the same signature twice still counts one person once
    path = aroot.var_dir / "approvals" / f"{rid}.json"
    doc = json.loads(path.read_text())
    doc["signatures"].append(dict(doc["signatures"][0]))
    path.write_text(json.dumps(doc))
    err = refused(aroot, clock, rid)
    assert "alice signed twice: one person counts once" in err.message


def test_requester_self_approving_refused(aroot, keys, clock):
    rid = new_request(aroot, clock, requester="erin")
    sign_request(aroot, rid, name="alice", key_path=keys["alice"], clock=clock)
    with pytest.raises(UsageError, match="erin requested .* and cannot approve it"):  # refused at sign (issue 9)
        sign_request(aroot, rid, name="erin", key_path=keys["erin"], clock=clock)
    # ... and a signature added to the file by hand is refused at verify
    from peaktrade.policy import sshsig
    from peaktrade.policy.approvals import request_bytes

    path = aroot.var_dir / "approvals" / f"{rid}.json"
    doc = json.loads(path.read_text())
    doc["signatures"].append({"name": "erin", "signature": sshsig.sign(request_bytes(doc), keys["erin"])})
    path.write_text(json.dumps(doc))
    err = refused(aroot, clock, rid)
    assert "erin requested this approval and cannot approve it (allow_requester: false)" in err.message
    assert "missing another person" in err.details[-1]


def test_the_operator_running_the_play_cannot_be_an_approver(aroot, keys, clock):
    rid = new_request(aroot, clock, requester="bob")
    for n in ("alice", "erin"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    # bob requested it; erin runs the play: the refusal names erin's part, not "requested"
    with pytest.raises(BlockedError, match="erin is the operator acting on this approval and cannot approve it"):
        play(aroot, clock, requester="erin")


def test_signature_over_a_different_request_refused(aroot, keys, clock):
    rid = new_request(aroot, clock)
    other = new_request(aroot, clock, params={"size": 99.0})
    sign_request(aroot, other, name="alice", key_path=keys["alice"], clock=clock)
    sign_request(aroot, rid, name="erin", key_path=keys["erin"], clock=clock)
    path = aroot.var_dir / "approvals" / f"{rid}.json"
    doc = json.loads(path.read_text())
    doc["signatures"].append(load_request(aroot, other)["signatures"][0])  # alice's signature, moved over
    path.write_text(json.dumps(doc))
    err = refused(aroot, clock, rid)
    assert err.message == (f"approval {rid} (live_activation) refused: "
                           "the signature of alice is not a signature over this request")


def test_tampered_request_refused(aroot, keys, clock):
    rid = new_request(aroot, clock)
    for n in ("alice", "erin"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    path = aroot.var_dir / "approvals" / f"{rid}.json"
    doc = json.loads(path.read_text())
    doc["request"]["expires_at"] = "2099-01-01T00:00:00Z"
    path.write_text(json.dumps(doc))
    assert "is not a signature over this request" in refused(aroot, clock, rid).message


def test_expired_request_refused(aroot, keys, clock):
    rid = new_request(aroot, clock, hours=1)
    for n in ("alice", "erin"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    clock.advance(3600)
    err = refused(aroot, clock, rid)
    assert err.message == f"approval {rid} (live_activation) expired at 2025-12-07T13:00:00Z"
    with pytest.raises(BlockedError, match="expired"):
        sign_request(aroot, rid, name="dave", key_path=keys["dave"], clock=clock)


def test_unknown_key_refused(aroot, keys, clock):
    rid = new_request(aroot, clock)
    with pytest.raises(UsageError, match="is not one of alice's keys in policies/roles.yaml"):
        sign_request(aroot, rid, name="alice", key_path=keys["mallory"], clock=clock)
    # forged into the file anyway
    from peaktrade.policy import sshsig
    from peaktrade.policy.approvals import request_bytes

    path = aroot.var_dir / "approvals" / f"{rid}.json"
    doc = json.loads(path.read_text())
    sig = sshsig.sign(request_bytes(doc), keys["mallory"])
    doc["signatures"].append({"name": "alice", "signature": sig, "fingerprint": "SHA256:lie"})
    path.write_text(json.dumps(doc))
    err = refused(aroot, clock, rid)
    assert err.message.startswith(f"approval {rid} (live_activation) refused: alice signed with a key not listed "
                                  "for alice in policies/roles.yaml (SHA256:")


def test_signer_without_the_required_role_refused(aroot, keys, clock):
    rid = new_request(aroot, clock)
    for n in ("carol", "erin"):  # risk officer + operator: no owner
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    err = refused(aroot, clock, rid)
    assert err.message == (f"approval {rid} (live_activation) refused: live_activation needs owner + one other "
                           "person from distinct people: missing an owner (valid signers: carol [risk_officer], "
                           "erin [operator])")


def test_risk_limit_change_needs_risk_officer_and_owner(aroot, keys, clock):
    rid = new_request(aroot, clock, decision="risk_limit_change")
    for n in ("alice", "dave"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    assert "missing a risk_officer" in refused(aroot, clock, rid).message
    sign_request(aroot, rid, name="carol", key_path=keys["carol"], clock=clock)
    assert [s.name for s in verify_doc(aroot, load_request(aroot, rid), clock=clock).signers] == ["carol", "alice"]


def test_play_binding_params_playbook_and_policies(aroot, keys, clock):
    rid = new_request(aroot, clock)
    for n in ("alice", "erin"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    with pytest.raises(BlockedError, match=r'signed for params \{"note":"none","size":10.0\}, this play has'):
        play(aroot, clock, params={"size": 11.0})
    aroot.policy_file("risk-limits").write_text(aroot.policy_file("risk-limits").read_text() + "\n")
    with pytest.raises(BlockedError, match="signed for other policies"):
        play(aroot, clock)


def test_no_request_names_the_command(aroot, clock):
    with pytest.raises(BlockedError, match="no live_activation approval request for playbook approve-demo"):
        play(aroot, clock)


def test_request_validation(aroot, clock):
    with pytest.raises(UsageError, match="unknown decision 'go_live'"):
        new_request(aroot, clock, decision="go_live")
    with pytest.raises(UsageError, match="at most 8h"):
        new_request(aroot, clock, hours=9)
    assert parse_duration("90m") == timedelta(minutes=90)
    with pytest.raises(UsageError):
        parse_duration("soon")


def test_secret_looking_params_are_bound_by_hash_not_value():
    from peaktrade.policy.approvals import bindable_params

    bound = bindable_params({"size": 1.0, "api_token": "s3cr3t-value"})
    assert bound["size"] == 1.0 and bound["api_token"].startswith("sha256:")
    assert "s3cr3t" not in json.dumps(bound)
    assert bindable_params({"api_token": "s3cr3t-value"}) == {"api_token": bound["api_token"]}


def test_two_processes_racing_for_one_request_bind_it_once(aroot, keys, clock):
    """Real processes: one request, two plays verifying at the same moment; exactly one wins."""
    import subprocess
    import sys

    rid = new_request(aroot, clock)
    for n in ("alice", "erin"):
        sign_request(aroot, rid, name=n, key_path=keys[n], clock=clock)
    code = (
        "import sys, pathlib\n"
        "from peaktrade.root import Root\n"
        "from peaktrade.errors import BlockedError\n"
        "from peaktrade.clock import FakeClock\n"
        "from peaktrade.hashing import playbook_hash, policies_hash\n"
        "from peaktrade.policy.approvals import verify_for_play\n"
        "root = Root(pathlib.Path(sys.argv[1]))\n"
        "try:\n"
        "    verify_for_play(root, 'live_activation', playbook='approve-demo',\n"
        "        playbook_hash=playbook_hash(root, 'approve-demo'), params={'size': 10.0, 'note': 'none'},\n"
        "        policies_hash=policies_hash(root), play_id=sys.argv[2], requester='bob', clock=FakeClock())\n"
        "    print('won')\n"
        "except BlockedError as exc:\n"
        "    print('lost:', exc.message)\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(aroot.path), f"play-{i}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(o.split(":")[0] for o in outs) == ["lost", "won"], outs
    assert "replay refused" in next(o for o in outs if o.startswith("lost"))
