"""Issue 9, items 2-5 through the CLI with real SSH keys: what a request binds (exchange, stage), who is
who, ``persons: 2``, and one verifier: ``approvals verify`` and the play give the same answer."""

from __future__ import annotations

import json

import pytest
from approvals9_helpers import make_keys, open_live, play, request, set_stage, sign, signed, with_people
from pb_helpers import cli, finished, journal, write_playbook

from peaktrade.policy.approvals import approvals_dir

SIGNED = """
    params:
      qty: {type: number, default: 1}
    guards:
      - approval: live_activation
      - live_gate: true
    steps:
      - {id: trade, title: The signed live step, effect: act, action: test.live_sensitive, with: {stage: live}}
    """


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("keys9v"))


@pytest.fixture
def lroot(root, keys):
    with_people(root, keys)
    open_live(root)
    write_playbook(root, "signed", SIGNED)
    return root


def verify(root, capsys, rid: str, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli(root, "approvals", "verify", rid, "--operator", "bob", *args)
    out = capsys.readouterr()
    return code, out.out + out.err


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def _remove_key(root, keys, name: str) -> None:
    _edit(root.policy_file("roles"), keys[name].with_suffix(".pub").read_text().strip().split()[1], "AAAA" + "x" * 20)


# each case: what makes the request refused -> a text both the verifier and the play must say
CASES = {
    "unsigned": (lambda r, k, c, rid: None, "missing an owner"),
    "exchange id changed": (lambda r, k, c, rid: _edit(r.config_file, 'ccxt_id = "kraken"', 'ccxt_id = "binance"'),
                            "another exchange configuration"),
    "credential variable changed": (lambda r, k, c, rid: _edit(r.config_file, 'live = "KRAKEN_API_KEY"',
                                                               'live = "OTHER_ACCOUNT_KEY"'),
                                    "another exchange configuration"),
    "policies changed": (lambda r, k, c, rid: _edit(r.policy_file("risk-limits"), "\n", "\n# reviewed\n"),
                         "other policies"),
    "signer's key revoked": (lambda r, k, c, rid: _remove_key(r, k, "dave"), "dave signed with a key not listed"),
    "stage lowered": (lambda r, k, c, rid: set_stage(r, "testnet"), "signed at desk stage live, the desk is now"),
    "already used": (lambda r, k, c, rid: play(r, c, "signed", "--operator", "bob"), "replay refused"),
    "operator signed": (lambda r, k, c, rid: None, "alice is the operator acting on this approval"),
    "playbook edited": (lambda r, k, c, rid: _edit(r.playbook_file("signed"), "The signed live step", "Changed"),
                        "another version of the playbook file"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_approvals_verify_and_the_play_agree_on_every_refusal(lroot, keys, capsys, case):
    change, reason = CASES[case]
    rid = request(lroot, capsys, "signed")
    if case != "unsigned":
        sign(lroot, keys, rid, "alice", "dave")
    operator = "alice" if case == "operator signed" else "bob"
    assert verify(lroot, capsys, rid, "--operator", operator)[0] == (3 if case in ("unsigned", "operator signed")
                                                                     else 0)
    change(lroot, keys, capsys, rid)
    code, out = verify(lroot, capsys, rid, "--operator", operator)
    assert code == 3 and out.startswith(f"REFUSED: {rid}") and reason in out, out
    (lroot.path / "traded").unlink(missing_ok=True)
    code, played = play(lroot, capsys, "signed", "--operator", operator)
    assert code == 3 and reason in played, played
    assert not (lroot.path / "traded").exists()


def test_list_shows_complete_pending_used_and_void(lroot, keys, capsys):
    pending = request(lroot, capsys, "signed")
    complete = signed(lroot, keys, capsys, "signed", "-p", "qty=2")
    used = signed(lroot, keys, capsys, "signed")
    assert play(lroot, capsys, "signed", "--operator", "bob")[0] == 0
    capsys.readouterr()
    assert cli(lroot, "approvals", "list", "--json") == 0
    status = {r["id"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert status[pending] == "pending" and status[complete] == "complete"
    assert status[used].startswith("used by play ")
    _edit(lroot.config_file, 'ccxt_id = "kraken"', 'ccxt_id = "binance"')
    assert cli(lroot, "approvals", "list", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[complete]["status"] == "void" and "exchange" in rows[complete]["reason"]


def test_editing_used_by_in_the_file_does_not_free_the_approval(lroot, keys, capsys):
    rid = signed(lroot, keys, capsys, "signed")
    assert play(lroot, capsys, "signed", "--operator", "bob")[0] == 0
    path = approvals_dir(lroot) / f"{rid}.json"
    doc = json.loads(path.read_text())
    assert doc["used_by"]["by"]  # the display copy
    doc["used_by"] = None
    path.write_text(json.dumps(doc))
    (lroot.path / "traded").unlink()
    code, out = play(lroot, capsys, "signed", "--operator", "bob")
    assert code == 3 and "replay refused" in out
    assert not (lroot.path / "traded").exists()


def test_the_gate_names_a_stage_below_live(lroot, keys, capsys):
    set_stage(lroot, "testnet")
    rid = request(lroot, capsys, "signed")  # signed at testnet: valid, but the stage half is missing
    sign(lroot, keys, rid, "alice", "dave")
    code, out = play(lroot, capsys, "signed", "--operator", "bob")
    assert code == 3
    assert "the desk's recorded stage is testnet, not live (peaktrade stage promote --to live)" in out
    gate = [g for g in journal(lroot) if g["type"] == "guard_evaluated" and g["guard"] == "live_gate"][0]
    assert not gate["ok"]
    # the approval was checked, never consumed: the play did not get past every guard
    assert json.loads((approvals_dir(lroot) / f"{rid}.json").read_text()).get("used_by") is None


def test_identities_are_keys_not_labels(lroot, keys, capsys, monkeypatch):
    # a requester who is not listed, or who cannot sign as themselves, creates nothing
    capsys.readouterr()
    assert cli(lroot, "approvals", "request", "--playbook", "signed", "--decision", "live_activation",
               "--requester", "mallory") == 2
    assert "'mallory' is not listed in policies/roles.yaml" in capsys.readouterr().err
    assert cli(lroot, "approvals", "request", "--playbook", "signed", "--decision", "live_activation",
               "--requester", "alice", "--key", str(keys["bob"])) == 3
    assert "not one of alice's keys" in capsys.readouterr().err
    # the requester cannot sign their own request
    rid = request(lroot, capsys, "signed", requester="alice")
    assert cli(lroot, "approvals", "sign", rid, "--as", "alice", "--key", str(keys["alice"])) == 2
    assert "alice requested" in capsys.readouterr().err
    # an operator who cannot prove who they are binds nothing
    sign(lroot, keys, rid, "dave", "carol")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    code, out = play(lroot, capsys, "signed", "--operator", "bob")
    assert code == 3 and "bob must prove who they are" in out
    code, out = play(lroot, capsys, "signed", "--operator", "bob", "--key", str(keys["carol"]))
    assert code == 3 and "not one of bob's keys" in out
    code, out = play(lroot, capsys, "signed", "--operator", "bob", "--key", str(keys["bob"]))
    assert code == 0, out


BOTH = """
    steps:
      - {id: both, title: Both persons present, effect: read, manual: "Both persons are present", persons: 2}
      - {id: ready, title: Both confirm, effect: read, confirm: "Both say: ready?", persons: 2}
    """


def test_yes_never_answers_a_persons_2_step(lroot, keys, capsys):
    write_playbook(lroot, "both", BOTH)
    code, out = play(lroot, capsys, "both", "--yes", "--operator", "bob")
    assert code == 1
    step = finished(journal(lroot))["both"]
    assert step["status"] == "failed"
    assert "needs the second person's signature (--yes never answers a persons: 2 step)" in step["summary"]
    play_id = journal(lroot)[0]["play_id"]
    assert f"peaktrade plays countersign {play_id} --step both --as NAME" in step["summary"]
    # the operator cannot be the second person
    capsys.readouterr()
    assert cli(lroot, "plays", "countersign", play_id, "--step", "both", "--as", "bob",
               "--key", str(keys["bob"])) == 2
    assert cli(lroot, "plays", "countersign", play_id, "--step", "both", "--as", "alice",
               "--key", str(keys["alice"])) == 0
    code, out = play(lroot, capsys, "both", "--yes", "--operator", "bob", "--resume", play_id)
    assert code == 1  # the next persons: 2 step waits for its own signature
    steps = finished(journal(lroot, play_id))
    assert steps["both"]["status"] == "succeeded" and "bob and alice (second person" in steps["both"]["summary"]
    assert steps["ready"]["status"] == "failed"
    assert cli(lroot, "plays", "countersign", play_id, "--step", "ready", "--as", "carol",
               "--key", str(keys["carol"])) == 0
    code, out = play(lroot, capsys, "both", "--yes", "--operator", "bob", "--resume", play_id)
    assert code == 0, out
    assert finished(journal(lroot, play_id))["ready"]["answer"] == "yes"
