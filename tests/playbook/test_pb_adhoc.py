"""Actions started outside a playbook pass the same guards and leave the same records."""

from __future__ import annotations

from peaktrade.playbook.adhoc import run_action
from peaktrade.playbook.journal import verify_journal
from peaktrade.playbook.result import Outcome


def test_adhoc_read_action_runs_and_is_journaled(root):
    lines: list[str] = []
    report = run_action(root, "disk.check", {"min_free_pct": 1}, operator="alice", echo=lines.append)
    assert report.outcome == Outcome.SUCCEEDED
    check = verify_journal(report.journal)
    assert check.ok
    types = [r["type"] for r in check.records]
    assert types[0] == "play_started" and "step_finished" in types and types[-1] == "play_finished"
    assert report.checklist is not None and report.checklist.is_file()
    assert "operator=alice playbook/what=adhoc-disk.check" in root.operations_log.read_text()


def test_adhoc_live_action_is_blocked_by_the_live_gate(root):
    report = run_action(root, "orders.cancel_all", {"mode": "live"}, operator="bob", echo=lambda _: None)
    assert report.outcome == Outcome.BLOCKED
    assert "live gate closed" in (report.reason or "")
    assert report.exit_code == 3


def test_adhoc_act_action_is_blocked_while_killed_but_risk_reducing_acts_run(root):
    from peaktrade.policy.killswitch import KillSwitch

    KillSwitch(root).engage("test", "carol")
    report = run_action(root, "logs.backup", {}, operator="carol", echo=lambda _: None)
    assert report.outcome == Outcome.SUCCEEDED  # risk-reducing acts stay allowed while killed
    report = run_action(root, "data.backfill", {"symbol": "BTC/EUR", "timeframe": "1m"}, operator="carol",
                        echo=lambda _: None)
    assert report.outcome == Outcome.BLOCKED
    assert "kill switch is KILLED" in (report.reason or "")


def test_unknown_adhoc_action_is_usage_error(root):
    import pytest

    from peaktrade.errors import UsageError

    with pytest.raises(UsageError, match="unknown action 'nope.nope'"):
        run_action(root, "nope.nope", {})
