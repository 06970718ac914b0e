"""The shipped policy playbooks, run through the real interpreter CLI."""

from __future__ import annotations

import json

import pytest

from peaktrade.cli import run


@pytest.fixture
def cli_root(root, monkeypatch):
    monkeypatch.setenv("PEAKTRADE_ROOT", str(root.path))
    return root


def test_live_start_small_is_blocked_by_the_shipped_policy_naming_both_halves(cli_root, capsys):
    assert run(["play", "live-start-small", "--yes"]) == 3
    out = capsys.readouterr()
    text = out.out + out.err
    assert "no live_activation approval request for playbook live-start-small" in text
    assert "live.enabled is not true in policies/stages.yaml" in text
    journal = next((cli_root.path / "var" / "plays").glob("*/journal.jsonl")).read_text().splitlines()
    guards = {r["guard"]: r for r in map(json.loads, journal) if r["type"] == "guard_evaluated"}
    assert guards["live_gate"]["ok"] is False
    assert "live.enabled is not true" in guards["live_gate"]["message"]
    assert "no valid live_activation approval" in guards["live_gate"]["message"]
    assert guards["approval"]["ok"] is False


def test_live_start_small_blocked_even_with_live_mode_configured(cli_root, capsys):
    cfg = cli_root.config_file
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "live"'))
    assert run(["play", "live-start-small", "--yes", "-p", "max_notional=40"]) == 3
    out = capsys.readouterr()
    assert "live.enabled is not true" in out.out + out.err


@pytest.mark.parametrize(("answer", "ran"), [("A", "reduce-size"), ("C", "daily-loss-stop")])
def test_incident_risk_limit_branches(cli_root, capsys, answer, ran):
    assert run(["play", "incident-risk-limit", "--yes", "--answer", f"option={answer}"]) == 0
    out = capsys.readouterr().out
    assert f"succeeded  {ran}" in out
    assert "skipped    limit-change-pr" in out


def test_incident_risk_limit_b_needs_the_risk_limit_change_approval(cli_root, capsys):
    assert run(["play", "incident-risk-limit", "--yes", "--answer", "option=B"]) == 3
    assert "no risk_limit_change approval request for playbook incident-risk-limit" in capsys.readouterr().out


def test_blocked_orders_found_in_logs_and_events(cli_root, capsys):
    logs = cli_root.path / "logs"
    logs.mkdir()
    (logs / "peaktrade.log").write_text("ok\n2025-12-07 [RISK] Order blocked: max_order_notional exceeded "
                                        "(500.00 > 100.00)\n")
    run_dir = cli_root.path / "live_runs" / "testnet_20251207_120000_abc123"
    run_dir.mkdir(parents=True)
    (run_dir / "events.jsonl").write_text('{"step": 1, "risk_allowed": false, "orders_blocked": 1, '
                                          '"risk_reasons": ["max_daily_loss_abs reached (60.00 >= 50.00)"]}\n')
    from peaktrade.policy.blocked import find_blocked

    found = find_blocked(cli_root)
    assert [(f["where"], f["limit"]) for f in found] == [
        ("logs/peaktrade.log:2", "max_order_notional"),
        ("live_runs/testnet_20251207_120000_abc123/events.jsonl:1", "max_daily_loss_abs")]


def test_live_start_small_passes_the_gate_with_enabled_and_two_signatures(aroot, keys, monkeypatch, capsys,
                                                                           set_yaml):
    monkeypatch.setenv("PEAKTRADE_ROOT", str(aroot.path))
    monkeypatch.delenv("KRAKEN_API_KEY", raising=False)
    from tests.policy.conftest import set_desk_stage

    set_yaml("stages", "enabled: false", "enabled: true")
    set_desk_stage(aroot, "live")  # as `stage promote --to live` records it
    cfg = aroot.config_file
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "live"'))
    assert run(["approvals", "request", "--playbook", "live-start-small", "--decision", "live_activation",
                "--requester", "bob", "--json"]) == 0
    rid = json.loads(capsys.readouterr().out)["id"]
    for n in ("alice", "erin"):
        assert run(["approvals", "sign", rid, "--as", n, "--key", str(keys[n])]) == 0
    code = run(["play", "live-start-small", "--yes", "--operator", "bob"])
    out = capsys.readouterr().out
    # --yes never answers "both present" (persons: 2): the play stops and says who must sign
    assert code == 1 and "needs the second person's signature (--yes never answers a persons: 2 step)" in out
    play_id = next((aroot.path / "var" / "plays").iterdir()).name
    assert run(["plays", "countersign", play_id, "--step", "both-present", "--as", "dave",
                "--key", str(keys["dave"])]) == 0
    code = run(["play", "live-start-small", "--yes", "--operator", "bob", "--resume", play_id])
    out = capsys.readouterr().out
    assert "both-present  Both persons are present (two-man rule)" in out and "dave (second person" in out
    # past every guard and the approval; stops at the credentials check (no live keys here): failed, not blocked
    assert code == 1, out
    journal = [json.loads(x) for x in next((aroot.path / "var" / "plays").glob("*/journal.jsonl")).read_text()
               .splitlines()]
    guards = {r["guard"]: r["ok"] for r in journal if r["type"] == "guard_evaluated"}
    assert guards == {"approval": True, "live_gate": True, "environment_mode": True, "kill_switch": True}
    assert "succeeded  approval" in out and "failed     credentials" in out
    used = [r for r in journal if r.get("approvals")]
    signers = used[0]["approvals"]["live_activation"]["signers"]
    assert [(x["name"], x["roles"]) for x in signers] == [("alice", ["owner"]), ("erin", ["operator"])]
    assert all(x["fingerprint"].startswith("SHA256:") for x in signers)
    # the same approval cannot open the gate for a second play (replay)
    assert run(["play", "live-start-small", "--yes", "--operator", "bob"]) == 3
    assert "replay refused" in capsys.readouterr().out
