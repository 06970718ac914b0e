"""Issue 11, items 2, 4, 6 and 7 through the CLI: checks that can fail and show their evidence, a crashed
run that fails the health check until acknowledged, incidents with a lifecycle (and none for dry runs,
declined confirmations or typos), and the small truths."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime

import pytest
from pb_helpers import cli_proc, write_playbook

pytestmark = pytest.mark.slow  # real plays in subprocesses


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S,000")


def _oplog(root) -> str:
    path = root.path / "logs" / "operations.log"
    return path.read_text() if path.exists() else ""


def test_health_check_fails_on_unexplained_log_lines_shows_them_and_writes_no_ok(root):
    root.logs_dir.mkdir(exist_ok=True)
    (root.logs_dir / "peaktrade.log").write_text(
        f"{_stamp()} INFO [session] bar 1\n{_stamp()} ERROR [session] order rejected: insufficient funds\n"
        f"{_stamp()} CRITICAL [orchestrator] disk full\n2020-01-01 00:00:00,000 ERROR [old] checked long ago\n")
    res = cli_proc(root, "play", "health-check")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "failed     log-errors" in res.stdout and "2 unexplained line(s)" in res.stdout
    assert "           logs/peaktrade.log:2: " in res.stdout and "insufficient funds" in res.stdout
    assert "logs/peaktrade.log:3: " in res.stdout and "checked long ago" not in res.stdout  # older than 24 h
    assert "Health-Check OK" not in _oplog(root)
    (checklist,) = root.checklists_dir.glob("*_health-check_*.md")
    text = checklist.read_text()
    assert "## Evidence" in text and "**`log-errors`**" in text and "disk full" in text

    # an entry of the documented allow-list explains them: the same check passes
    allow = root.policies_dir / "log-allowlist.yaml"
    allow.write_text(allow.read_text() + "  - files: logs/peaktrade.log\n    pattern: 'insufficient funds|disk full'\n"
                     "    reason: test desk - both are provoked on purpose by this test\n")
    res = cli_proc(root, "play", "health-check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 unexplained line(s)" in res.stdout and "Health-Check OK" in _oplog(root)


def test_crashed_run_fails_the_health_check_until_acknowledged(root):
    from peaktrade.runtime.orchestrator import Orchestrator

    rec = Orchestrator(root).start("testnet", profile="standard", check=False)
    for _ in range(300):  # a running session crashes (not one still starting up)
        if Orchestrator(root).registry.get(rec.run_id).status == "running":
            break
        time.sleep(0.05)
    os.kill(rec.pid, signal.SIGKILL)
    os.waitpid(rec.pid, 0)  # the worker is this test's child here
    res = cli_proc(root, "play", "health-check")
    assert res.returncode == 1 and "failed     crashed-runs" in res.stdout, res.stdout + res.stderr
    assert f"run {rec.run_id} CRASHED" in res.stdout and f"runs ack --run-id {rec.run_id} --note WHY" in res.stdout
    overview = cli_proc(root, "monitor", "overview")
    assert rec.run_id in overview.stdout and "CRASHED" in overview.stdout
    assert cli_proc(root, "runs", "ack", "--run-id", rec.run_id, "--note", "test kill").returncode == 0
    res = cli_proc(root, "play", "health-check")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no crashed or lost run waits for acknowledgement" in res.stdout
    assert "no active runs" in cli_proc(root, "monitor", "overview").stdout


def test_no_incident_for_typos_dry_runs_or_a_declined_confirmation(root):
    typo = cli_proc(root, "play", "incident-pnl-divergence", "-p", "run_id=testnet_20990101_000000_abcdef")
    assert typo.returncode == 2 and "param run_id: unknown run id 'testnet_20990101_000000_abcdef'" in typo.stderr
    profile = cli_proc(root, "play", "testnet-start", "-p", "profile=quik_smoke")
    assert profile.returncode == 2 and "param profile: unknown profile 'quik_smoke'" in profile.stderr
    assert not root.plays_dir.exists() or not list(root.plays_dir.iterdir())  # refused before a journal
    dry = cli_proc(root, "play", "shutdown", "-p", "reason=x", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    declined = cli_proc(root, "play", "shutdown-emergency")  # no terminal, no --yes: the operator did not go ahead
    assert declined.returncode == 1 and "failed     confirm-emergency" in declined.stdout
    assert "incident:" not in declined.stdout
    assert cli_proc(root, "incident", "list").stdout.strip() == "no incidents"


def test_incident_list_show_resolve_and_one_report_per_failure(root):
    write_playbook(root, "breaks", """
        on_failure: {incident: {severity: high, title: Breaks on purpose}}
        params:
          reason: {type: string, default: provoked}
        steps:
          - {id: look, title: Look, effect: read, action: processes.list,
             with: {pattern: no-such-process-pb11, expect: some}}
        """)
    for _ in range(2):  # the same failure twice: one report, the second play a recurrence in it
        assert cli_proc(root, "play", "breaks").returncode == 1
    listed = cli_proc(root, "incident", "list", "--open", "--json")
    (inc,) = json.loads(listed.stdout)
    assert inc["severity"] == "high" and inc["status"] == "open" and inc["runbook"] == "breaks"
    shown = cli_proc(root, "incident", "show", inc["id"][:12])
    assert "# Incident: Breaks on purpose: play" in shown.stdout and "Reason given: provoked" in shown.stdout
    assert "## Recurrences" in shown.stdout and "failed the same way" in shown.stdout
    assert cli_proc(root, "incident", "resolve", inc["id"], "--note", "fixed the echo").returncode == 0
    assert cli_proc(root, "incident", "list", "--open").stdout.strip() == "no open incidents"
    text = (root.path / inc["path"]).read_text()
    assert "| Status | resolved |" in text and "fixed the echo" in text
    again = cli_proc(root, "incident", "resolve", inc["id"], "--note", "twice")
    assert again.returncode == 2 and "is resolved, not open" in again.stderr


def test_small_truths(root):
    shown = cli_proc(root, "playbooks", "show", "shutdown").stdout
    assert "on_failure:\n  incident:\n    severity: medium\n" in shown and "{'" not in shown
    for name in ("health-check", "shutdown"):
        cli_proc(root, "play", name, "-p", "reason=x", "--dry-run") if name == "shutdown" else \
            cli_proc(root, "play", name, "--dry-run")
    plays = cli_proc(root, "plays", "list").stdout.splitlines()
    assert plays[0].split()[:3] == ["PLAY", "PLAYBOOK", "OUTCOME"]
    assert [ln.split()[1] for ln in plays[1:3]] == ["shutdown", "health-check"]  # newest first
    session = cli_proc(root, "session", "run", "--mode", "testnet", "--steps", "2", "--json")
    assert session.returncode == 0 and json.loads(session.stdout)["bars"] == 2  # stdout is the JSON only
    listed = cli_proc(root, "experiments", "list").stdout.splitlines()
    assert "Symbol" in listed[0] and "BTC/EUR" in listed[2]
