"""`peaktrade policy diff` on a real git repository made in the test."""

from __future__ import annotations

import json
import subprocess

import pytest

from peaktrade.cli import run


@pytest.fixture
def repo(root, monkeypatch):
    def git(*args):
        subprocess.run(["git", "-C", str(root.path), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", "policies")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    monkeypatch.setenv("PEAKTRADE_ROOT", str(root.path))
    return root


def edit(root, old, new, name="risk-limits"):
    path = root.policy_file(name)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def diff_json(capsys, *extra):
    code = run(["policy", "diff", "--base", "main", "--format", "json", *extra])
    return code, json.loads(capsys.readouterr().out)


def only(report, path):
    (c,) = [c for c in report["changes"] if c["path"] == path]
    return c


def test_no_change_is_clean_and_exit_0(repo, capsys):
    code, report = diff_json(capsys, "--fail-on-loosen")
    assert code == 0 and report["changes"] == [] and report["required_approvals"] == []


def test_raising_max_order_notional_is_a_flagged_loosening(repo, capsys):
    edit(repo, "max_order_notional: 100.0", "max_order_notional: 200.0")
    code, report = diff_json(capsys)
    assert code == 0
    c = only(report, "$.stages.live.max_order_notional")
    assert (c["direction"], c["kind"], c["old"], c["new"], c["pct"], c["flagged"]) == (
        "loosened", "changed", 100.0, 200.0, 100.0, True)
    assert report["required_approvals"] == ["risk_limit_change: risk_officer + owner"]
    assert run(["policy", "diff", "--base", "main", "--fail-on-loosen"]) == 1


def test_small_loosening_is_not_flagged(repo, capsys):
    edit(repo, "max_order_notional: 100.0", "max_order_notional: 125.0")
    c = only(diff_json(capsys)[1], "$.stages.live.max_order_notional")
    assert (c["direction"], c["pct"], c["flagged"]) == ("loosened", 25.0, False)


def test_lowering_is_a_tightening_and_passes_fail_on_loosen(repo, capsys):
    edit(repo, "max_order_notional: 100.0", "max_order_notional: 50.0")
    code, report = diff_json(capsys, "--fail-on-loosen")
    c = only(report, "$.stages.live.max_order_notional")
    assert code == 0 and (c["direction"], c["pct"], c["flagged"]) == ("tightened", -50.0, False)


def test_removing_a_limit_is_a_loosening(repo, capsys):
    edit(repo, "    max_open_positions: 2\n", "")
    code, report = diff_json(capsys, "--fail-on-loosen")
    c = only(report, "$.stages.live.max_open_positions")
    assert code == 1 and (c["direction"], c["kind"], c["old"], c["new"]) == ("loosened", "removed", 2, None)


def test_live_enabled_and_roles_changes(repo, capsys):
    edit(repo, "enabled: false", "enabled: true", name="stages")
    edit(repo, "requires: [owner, any]\n    allow_requester: false\n    max_validity_hours: 8",
         "requires: [owner]\n    allow_requester: true\n    max_validity_hours: 8", name="roles")
    _, report = diff_json(capsys)
    assert only(report, "$.live.enabled")["direction"] == "loosened"
    assert only(report, "$.decisions.live_activation.requires")["direction"] == "loosened"
    assert only(report, "$.decisions.live_activation.allow_requester")["direction"] == "loosened"
    assert report["required_approvals"] == ["policy_change: owner + risk_officer",
                                            "live_activation: owner + one other person"]
    assert report["summary"] == {"tightened": 0, "loosened": 3, "neutral": 0, "flagged": 3}


def test_text_and_markdown(repo, capsys):
    edit(repo, "max_order_notional: 100.0", "max_order_notional: 200.0")
    edit(repo, "max_daily_loss_abs: 50.0", "max_daily_loss_abs: 40.0")
    assert run(["policy", "diff", "--base", "main"]) == 0
    text = capsys.readouterr().out
    assert ("  LOOSENED   policies/risk-limits.yaml: $.stages.live.max_order_notional (changed): 100.0 -> 200.0 "
            "(+100.0 %)  [LOOSENED > 25 % IN ONE STEP]") in text
    assert "TIGHTENED  policies/risk-limits.yaml: $.stages.live.max_daily_loss_abs (changed): 50.0 -> 40.0" in text
    assert run(["policy", "diff", "--base", "main", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert ("| `policies/risk-limits.yaml` | `$.stages.live.max_order_notional` | **loosened** (changed) "
            "(+100.0 %) | `100.0` | `200.0` | ⚠️ loosened > 25 % |") in md
    assert "**Required approvals:** `risk_limit_change: risk_officer + owner`" in md


def test_bad_ref_and_bad_format_are_usage_errors(repo, capsys):
    assert run(["policy", "diff", "--base", "no-such-ref"]) == 2
    assert "is not a commit" in capsys.readouterr().err
    assert run(["policy", "diff", "--base", "main", "--format", "html"]) == 2


def test_loosening_from_zero_is_flagged_without_a_percentage(repo, capsys):
    edit(repo, "    max_open_positions: 2\n", "    max_open_positions: 0\n")
    subprocess.run(["git", "-C", str(repo.path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam",
                    "zero"], check=True)
    edit(repo, "    max_open_positions: 0\n", "    max_open_positions: 3\n")
    c = only(diff_json(capsys)[1], "$.stages.live.max_open_positions")
    assert (c["direction"], c["pct"], c["flagged"]) == ("loosened", None, True)


def test_not_a_git_repository(root, monkeypatch, capsys):
    monkeypatch.setenv("PEAKTRADE_ROOT", str(root.path))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(root.path.parent))
    assert run(["policy", "diff", "--base", "main"]) == 2
    assert "is not inside a git repository" in capsys.readouterr().err


def test_granting_a_role_is_a_flagged_loosening_and_revoking_one_a_tightening(repo, capsys):
    edit(repo, "  - name: bob\n    roles: [operator]", "  - name: bob\n    roles: [operator, owner]", name="roles")
    code, report = diff_json(capsys, "--fail-on-loosen")
    c = only(report, "$.people.bob.roles")
    assert code == 1 and (c["direction"], c["flagged"]) == ("loosened", True)
    assert (c["old"], c["new"]) == (["operator"], ["operator", "owner"])
    edit(repo, "  - name: bob\n    roles: [operator, owner]", "  - name: bob\n    roles: [owner]", name="roles")
    code, report = diff_json(capsys, "--fail-on-loosen")
    c = only(report, "$.people.bob.roles")
    assert code == 1 and c["direction"] == "loosened"  # operator -> owner swaps authority: still a loosening


def test_removing_a_persons_role_is_a_tightening(repo, capsys):
    path = repo.policy_file("roles")
    text = path.read_text()
    path.write_text(text.replace("  - name: alice\n    roles: [owner]",
                                 "  - name: alice\n    roles: [owner, operator]", 1))
    subprocess.run(["git", "-C", str(repo.path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "x"],
                   check=True, capture_output=True)
    edit(repo, "  - name: alice\n    roles: [owner, operator]", "  - name: alice\n    roles: [owner]", name="roles")
    code, report = diff_json(capsys, "--fail-on-loosen")
    c = only(report, "$.people.alice.roles")
    assert code == 0 and (c["direction"], c["flagged"]) == ("tightened", False)
