"""Issue 9, items 2 and 3 with real SSH keys: a risk_limit_change binds the change itself; the stage
record lives in the desk state and is reached only by `stage promote --to live`; the detached worker's
gate (``live_gate_for_request``) re-verifies the stored request."""

from __future__ import annotations

import json
import subprocess

import pytest

from peaktrade.cli import run


@pytest.fixture
def cli(aroot, monkeypatch, capsys):
    monkeypatch.setenv("PEAKTRADE_ROOT", str(aroot.path))

    def call(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out + out.err

    return call


def _git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root.path), *args], check=True, capture_output=True)


def _loosen(root, old: str, new: str) -> None:
    path = root.policy_file("risk-limits")
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_risk_limit_change_binds_the_change_and_refuses_any_other(aroot, keys, cli):
    _git(aroot, "init", "-q")
    _git(aroot, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(aroot, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    _loosen(aroot, "max_order_notional: 1000", "max_order_notional: 1100")
    code, out = cli("approvals", "request", "--decision", "risk_limit_change", "--playbook", "incident-risk-limit",
                    "--base", "HEAD", "--requester", "bob", "--json")
    assert code == 0, out
    req = json.loads(out)
    change = req["policy_change"]
    assert change["base"] == "HEAD" and change["before"]["risk-limits.yaml"] != change["after"]["risk-limits.yaml"]
    fields = {(c["path"], c["old"], c["new"], c["direction"]) for c in change["changes"]}
    assert ("$.stages.shadow.max_order_notional", 1000, 1100, "loosened") in fields
    rid = req["id"]
    for n in ("carol", "alice"):
        assert cli("approvals", "sign", rid, "--as", n, "--key", str(keys[n]))[0] == 0
    code, out = cli("approvals", "verify", rid, "--operator", "erin")
    assert code == 0, out
    # CI's check (no desk state there): signatures and the signed change only
    from peaktrade.policy.stages import write_stage_record

    write_stage_record(aroot, {"stage": "live", "since": "2026-01-01T00:00:00Z", "by": "t", "history": []})
    assert cli("approvals", "verify", rid, "--operator", "erin")[0] == 3  # the desk moved on: void for a play
    code, out = cli("approvals", "verify", rid, "--operator", "ci", "--change-only")
    assert code == 0, out
    # the working tree now differs from the signed "after": refused, naming the file
    _loosen(aroot, "max_order_notional: 1100", "max_order_notional: 5000")
    code, out = cli("approvals", "verify", rid, "--operator", "erin")
    assert code == 3 and "the policies differ from the change signed in" in out and "risk-limits.yaml" in out
    code, out = cli("approvals", "verify", rid, "--operator", "ci", "--change-only")
    assert code == 3 and "the policies differ from the change signed in" in out


def test_a_risk_limit_change_request_without_a_change_is_refused(aroot, cli):
    _git(aroot, "init", "-q")
    _git(aroot, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(aroot, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    code, out = cli("approvals", "request", "--decision", "risk_limit_change", "--playbook", "incident-risk-limit",
                    "--requester", "bob")
    assert code == 2 and "no policy field differs from HEAD" in out


def _testnet_history(root, runs: int = 5) -> None:
    """Evidence for testnet -> live: run folders of testnet runs, the oldest long enough ago."""
    for i in range(runs):
        (root.live_runs_dir / f"testnet_20240101_00000{i}_abc12{i}").mkdir(parents=True)


def test_stage_promote_to_live_is_the_only_way_the_gate_sees_live(aroot, keys, cli, set_yaml):
    from peaktrade.policy import gate

    set_yaml("stages", "enabled: false", "enabled: true")
    (aroot.var_dir).mkdir(exist_ok=True)
    (aroot.var_dir / "stage.json").write_text('{"stage": "live"}')  # an editable file opens nothing
    assert "the desk's recorded stage is testnet" not in gate.check_live_gate(aroot, approvals={}).message
    assert "not promoted yet" in gate.check_live_gate(aroot, approvals={}).message
    _testnet_history(aroot)
    code, out = cli("approvals", "request", "--decision", "live_activation", "--stage-to", "live",
                    "--requester", "bob", "--json")
    assert code == 0, out
    req = json.loads(out)
    assert req["subject"]["checklist"][0].startswith("Testnet phase complete")  # the signers sign the items
    for n in ("alice", "erin"):
        assert cli("approvals", "sign", req["id"], "--as", n, "--key", str(keys[n]))[0] == 0
    code, out = cli("stage", "promote", "--to", "live", "--operator", "bob", "--yes")
    assert code == 0, out
    assert cli("stage", "status", "--json")[1].count('"stage": "live"') == 1
    assert "not live" not in gate.check_live_gate(aroot, approvals={}).message
    checklist = next(aroot.checklists_dir.glob("*stage-promotion_testnet-to-live*.md")).read_text()
    assert "signed by alice and erin as part of the approval; ticked via --yes by bob" in checklist
    assert "**Promoted by:** bob (key `SHA256:" in checklist  # the promoter proved who they are


def test_live_gate_for_request_reverifies_the_stored_request(aroot, keys, cli, set_yaml):
    from peaktrade.policy.gate import live_gate_for_request
    from peaktrade.policy.stages import write_stage_record

    set_yaml("stages", "enabled: false", "enabled: true")
    write_stage_record(aroot, {"stage": "live", "since": "2026-01-01T00:00:00Z", "by": "t", "history": []})
    code, out = cli("approvals", "request", "--decision", "live_activation", "--playbook", "approve-demo",
                    "--requester", "bob", "--json")
    rid = json.loads(out)["id"]
    why = live_gate_for_request(aroot, rid, play_id="p-1")
    assert why and "not bound to any play" in why
    for n in ("alice", "erin"):
        assert cli("approvals", "sign", rid, "--as", n, "--key", str(keys[n]))[0] == 0
    from peaktrade.desk import open_desk

    open_desk(aroot).bind_approval(rid, by="p-1", at="2026-01-01T00:00:00Z")
    assert live_gate_for_request(aroot, rid, play_id="p-1") is None
    assert "held by p-1, not by play p-2" in live_gate_for_request(aroot, rid, play_id="p-2")
    cfg = aroot.config_file
    cfg.write_text(cfg.read_text().replace('ccxt_id = "kraken"', 'ccxt_id = "binance"'))
    assert "another exchange configuration" in live_gate_for_request(aroot, rid, play_id="p-1")
    set_yaml("stages", "enabled: true", "enabled: false")
    why = live_gate_for_request(aroot, rid, play_id="p-1")
    assert why.startswith("live gate closed: live.enabled is not true") and "no valid live_activation" in why


def test_verify_of_a_release_checks_the_current_engagement(aroot, keys, cli):
    assert cli("kill-switch", "engage", "--reason", "drill", "--operator", "bob")[0] == 0
    code, out = cli("approvals", "request", "--decision", "kill_switch_release", "--kill-switch",
                    "--requester", "bob", "--json")
    rid = json.loads(out)["id"]
    for n in ("alice", "erin"):
        assert cli("approvals", "sign", rid, "--as", n, "--key", str(keys[n]))[0] == 0
    assert cli("approvals", "verify", rid, "--operator", "bob")[0] == 0
    from peaktrade.desk import open_desk

    # a later engagement: the request was signed for the earlier one
    open_desk(aroot).engage(reason="again", by="bob", at="2099-01-01T00:00:00Z")
    code, out = cli("approvals", "verify", rid, "--operator", "bob")
    assert code == 3 and "was signed for" in out
