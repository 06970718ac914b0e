"""Guards enforced in the one step executor: approvals, live gate, kill switch, dry-run, playbook guards."""

from __future__ import annotations

import sys

import pytest
from pb_helpers import PY, cli, cli_proc, finished, journal, write_playbook


@pytest.fixture
def no_module(monkeypatch):
    """Make a policy module unimportable, as before the policy part lands."""
    def hide(name):
        monkeypatch.setitem(sys.modules, name, None)
    return hide


APPROVE = """
    steps:
      - {id: approval, title: Two-person approval, effect: read, approve: live_activation}
      - {id: after, title: After, effect: act, action: test.touch, with: {path: after}}
    """


def test_approve_without_signatures_is_blocked(root):
    # whatever the state of the policy part: an unsigned request never passes (--yes does not help)
    write_playbook(root, "needs-approval", f"""
        steps:
          - {{id: approval, title: Two-person approval, effect: read, approve: live_activation}}
          - {{id: after, title: After, effect: act, run: ["{PY}", "-c", "open('after', 'w')"]}}
        """)
    proc = cli_proc(root, "play", "needs-approval", "--yes")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert finished(journal(root))["approval"]["status"] == "blocked"
    assert not (root.path / "after").exists()


def test_live_step_blocked_by_shipped_policy(root):
    write_playbook(root, "golive", """
        steps:
          - {id: before, title: Before, effect: read, action: test.echo, with: {message: hi}}
          - {id: trade, title: Trade live, effect: act, action: test.live_sensitive, with: {stage: live}}
        """)
    assert cli(root, "play", "golive", "--yes") == 3
    rec = finished(journal(root))["trade"]
    assert rec["status"] == "blocked"
    assert "live.enabled is not true in policies/stages.yaml" in rec["summary"]
    assert "no valid live_activation approval for this play" in rec["summary"]
    assert rec["summary"].endswith("(live because its arguments say stage: live)")
    assert not (root.path / "traded").exists()


def test_run_step_with_mode_live_argv_is_gated(root):
    write_playbook(root, "argvlive", f"""
        steps:
          - id: go
            title: Go
            effect: read
            run: ["{PY}", "-c", "open('ran', 'w')", "--mode", "live"]
        """)
    assert cli(root, "play", "argvlive") == 3
    assert finished(journal(root))["go"]["summary"].endswith("(live because its command says --mode live)")
    assert not (root.path / "ran").exists()


def test_live_stage_playbook_gates_its_steps(root):
    path = write_playbook(root, "livebook", """
        steps:
          - {id: look, title: Look, effect: read, action: test.echo, with: {message: hi}}
        """)
    path.write_text(path.read_text().replace("stage: any", "stage: live"))
    assert cli(root, "play", "livebook") == 3
    assert "(live because playbook 'livebook' has stage live)" in finished(journal(root))["look"]["summary"]


def test_kill_switch_blocks_act_steps_not_read_steps(root):
    from peaktrade.policy.killswitch import KillSwitch

    KillSwitch(root).engage("drill", "tester")
    write_playbook(root, "ks", """
        steps:
          - {id: look, title: Look, effect: read, action: test.echo, with: {message: hi}}
          - {id: act, title: Act, effect: act, action: test.touch, with: {path: acted}}
        """)
    assert cli(root, "play", "ks") == 3
    recs = finished(journal(root))
    assert recs["look"]["status"] == "succeeded"
    assert recs["act"]["status"] == "blocked"
    assert recs["act"]["summary"] == "kill switch is KILLED: act steps are blocked"
    assert not (root.path / "acted").exists()


def test_the_kill_switch_is_read_from_the_desk_state_not_a_policy_module(root, no_module):
    # the guard reads the desk state's switch (one fail-closed read); the old policy module plays no part
    no_module("peaktrade.policy.killswitch")
    write_playbook(root, "ks2", """
        steps:
          - {id: act, title: Act, effect: act, action: test.touch, with: {path: acted}}
        """)
    assert cli(root, "play", "ks2") == 0
    assert (root.path / "acted").exists()


def test_dry_run_runs_reads_and_describes_acts(root):
    write_playbook(root, "dry", f"""
        steps:
          - {{id: look, title: Look, effect: read, action: test.echo, with: {{message: hi}}}}
          - {{id: act, title: Act, effect: act, action: test.touch, with: {{path: acted}}}}
          - {{id: cmd, title: Cmd, effect: act, run: ["{PY}", "-c", "open('ran', 'w')"]}}
          - {{id: sure, title: Sure, effect: act, confirm: "Really?"}}
        """)
    assert cli(root, "play", "dry", "--dry-run") == 0
    recs = finished(journal(root))
    assert recs["look"]["status"] == "succeeded"
    assert recs["act"]["status"] == "would-run" and recs["act"]["summary"] == "would touch acted"
    assert recs["cmd"]["status"] == "would-run"
    assert recs["sure"]["status"] == "would-run"
    assert not (root.path / "acted").exists() and not (root.path / "ran").exists()
    assert journal(root)[0]["flags"]["dry_run"] is True


def test_playbook_guards_checked_before_any_step(root):
    write_playbook(root, "guarded", """
        guards:
          - kill_switch: released
          - environment_mode: live
        steps:
          - {id: look, title: Look, effect: read, action: test.echo, with: {message: hi}}
        """)
    assert cli(root, "play", "guarded") == 3
    recs = journal(root)
    evaluated = [(r["guard"], r["ok"], r["message"]) for r in recs if r["type"] == "guard_evaluated"]
    # environment_mode is evaluated first (cheapest) and refuses; the others are still reported
    assert evaluated == [("environment_mode", False, "environment.mode is testnet, this playbook needs live"),
                         ("kill_switch", True, "kill switch is ACTIVE")]
    assert not finished(recs)
    assert recs[-1]["type"] == "play_finished" and recs[-1]["outcome"] == "blocked"


def test_stage_at_least_and_approval_guards_fail_closed(root):
    write_playbook(root, "guarded2", """
        guards:
          - stage_at_least: live
          - approval: live_activation
        steps:
          - {id: look, title: Look, effect: read, action: test.echo, with: {message: hi}}
        """)
    assert cli(root, "play", "guarded2") == 3
    ev = {r["guard"]: r for r in journal(root) if r["type"] == "guard_evaluated"}
    assert ev["stage_at_least"]["message"] == "current stage is testnet, this playbook needs at least live"
    assert ev["approval"]["ok"] is False  # still evaluated (without binding), fails closed
    path = root.playbook_file("guarded2")
    path.write_text(path.read_text().replace("stage_at_least: live", "stage_at_least: testnet"))
    before = set(root.plays_dir.iterdir())
    assert cli(root, "play", "guarded2") == 3
    (second,) = set(root.plays_dir.iterdir()) - before  # play ids of one second do not sort by time
    ev = {r["guard"]: r for r in journal(root, second.name) if r["type"] == "guard_evaluated"}
    assert ev["approval"]["ok"] is False
    assert ev["approval"]["message"].startswith("no live_activation approval request for playbook guarded2")
