"""Cross-file policy checks a schema cannot express, located at file:line:col."""

from __future__ import annotations

from peaktrade.policy.semantics import check_policies


def texts(root):
    return [p.text() + (" [warning]" if p.severity == "warning" else "") for p in check_policies(root)]


def test_shipped_policies_are_consistent(root):
    assert texts(root) == []


def test_unknown_decision_in_a_transition(root, set_yaml):
    set_yaml("stages", "decision: stage_promotion", "decision: board_vote")
    assert texts(root) == ["policies/stages.yaml:21:5: $.transitions[0].decision: decision 'board_vote' is not "
                           "defined in policies/roles.yaml"]


def test_decision_nobody_can_fill_and_contradicting_limits(root, set_yaml):
    set_yaml("roles", "requires: [risk_officer, owner]", "requires: [risk_officer, risk_officer]")
    set_yaml("risk-limits", "max_symbol_exposure: 500.0", "max_symbol_exposure: 5000.0")
    out = texts(root)
    assert any(t.startswith("policies/roles.yaml:") and "risk_limit_change can never be approved" in t for t in out)
    assert any(t.startswith("policies/risk-limits.yaml:26:3: $.stages.live: max_symbol_exposure (5000.00) is above "
                            "max_total_exposure (1000.00)") for t in out)


def test_unknown_time_zone_and_shared_key(root, set_yaml):
    set_yaml("risk-limits", "daily_reset_timezone: UTC", "daily_reset_timezone: Mars/Olympus")
    key = "AAAAC3NzaC1lZDI1NTE5AAAAIHlZr/LTPWI6KZ5nnD53bAqqN7syC38Im7MhuUDa9UfJ"
    set_yaml("roles", "AAAAC3NzaC1lZDI1NTE5AAAAIG0LqN4sbBUjwm74fjGj6WLgUpPsFbuHlhCdde6fEzlG", key)
    out = texts(root)
    assert "policies/risk-limits.yaml:7:1: $.daily_reset_timezone: unknown time zone 'Mars/Olympus'" in out
    assert any("the same key is listed for 'bob' and 'carol'" in t for t in out)
