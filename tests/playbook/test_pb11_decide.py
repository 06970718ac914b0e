"""Issue 11, item 3 through the CLI with real sessions: decisions that act.

Network pause stops the affected run; the authentication branch ends blocked awaiting the kill-switch
release and names the release command; a restart leaves the stage's continuous session running and
verifies it, and a second identical session is refused unless --allow-duplicate; the divergence
playbook takes the mode from the run id.
"""

from __future__ import annotations

import json
import time

import pytest
from pb_helpers import cli_proc, finished, journal

pytestmark = pytest.mark.slow  # real sessions in their own processes


@pytest.fixture
def orch(root):
    from peaktrade.runtime.orchestrator import Orchestrator

    o = Orchestrator(root)
    yield o
    o.kill_all()


def _running(orch, rec) -> None:
    for _ in range(300):
        if orch.registry.get(rec.run_id).status == "running":
            return
        time.sleep(0.05)
    raise AssertionError(f"{rec.run_id} did not start")


@pytest.mark.parametrize("answer, step", [("wait", "net-wait"), ("fix_network", "net-fix"), ("pause", "net-pause")])
def test_every_network_option_runs_its_step_and_pause_stops_the_run(root, orch, answer, step):
    rec = orch.start("testnet", profile="standard", check=False)
    _running(orch, rec)
    res = cli_proc(root, "play", "incident-exchange-error", "-p", "error_type=network", "-p", f"run_id={rec.run_id}",
                   "--yes", "--answer", f"net-decide={answer}")
    assert res.returncode == 0, res.stdout + res.stderr
    steps = finished(journal(root))
    assert steps[step]["status"] == "succeeded"
    others = {"net-wait", "net-fix", "net-pause", "net-pause-all"} - {step}
    assert {steps[s]["status"] for s in others} == {"skipped"}
    assert orch.registry.get(rec.run_id).active is (answer != "pause")
    if answer == "pause":
        assert orch.registry.get(rec.run_id).status == "stopped"


def test_authentication_branch_ends_blocked_awaiting_the_release(root, orch):
    rec = orch.start("testnet", profile="standard", check=False)
    _running(orch, rec)
    res = cli_proc(root, "play", "incident-exchange-error", "-p", "error_type=authentication", "--yes")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "blocked    auth-await-release" in res.stdout
    assert "awaiting kill-switch release" in res.stdout and "`peaktrade kill-switch release`" in res.stdout
    assert "peaktrade approvals request --decision kill_switch_release --kill-switch" in res.stdout
    assert "peaktrade play restart-after-maintenance -p stage=testnet" in res.stdout
    assert "incident:" not in res.stdout  # blocked on purpose, not failed
    assert orch.registry.get(rec.run_id).active is False
    steps = finished(journal(root))
    assert "readiness" not in " ".join(k for k, v in steps.items() if v["status"] == "failed")


def test_restart_leaves_a_continuous_session_running_and_refuses_a_duplicate(root, orch):
    res = cli_proc(root, "play", "restart-after-maintenance", "-p", "stage=testnet", "--yes")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "succeeded  verify-running" in res.stdout
    [rec] = [r for r in orch.registry.list(active_only=True)]
    assert rec.profile == "standard" and rec.status == "running"
    again = cli_proc(root, "play", "restart-after-maintenance", "-p", "stage=testnet", "--yes")
    assert again.returncode == 3, again.stdout + again.stderr
    assert f"a testnet session of ma_crossover on BTC/EUR is already running: {rec.run_id}" in again.stdout
    assert len(orch.registry.list(active_only=True)) == 1

    twin = cli_proc(root, "runs", "start-testnet")
    assert twin.returncode == 3 and "--allow-duplicate" in twin.stderr
    allowed = cli_proc(root, "runs", "start-testnet", "--allow-duplicate")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert f"also running: {rec.run_id}" in allowed.stdout
    status = json.loads(cli_proc(root, "runs", "status", "--json").stdout)
    assert len([r for r in status if r["status"] in ("starting", "running")]) == 2, status


def test_divergence_takes_the_mode_from_the_run_id(root, orch):
    rec = orch.start("testnet", profile="standard", check=False)
    _running(orch, rec)
    res = cli_proc(root, "play", "incident-pnl-divergence", "-p", f"run_id={rec.run_id}", "--yes",
                   "--answer", "cause=data")
    assert f"{rec.run_id}: stopped" in res.stdout, res.stdout + res.stderr
    assert orch.registry.get(rec.run_id).active is False
    assert "informed " in res.stdout  # operator and owner, through the desk's notifiers
