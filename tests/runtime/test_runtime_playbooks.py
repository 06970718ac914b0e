"""The playbooks wired to the runtime, end to end with no terminal (as CI runs them)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from peaktrade.actions import registry
from peaktrade.actions.registry import ActionContext
from peaktrade.errors import BlockedError
from peaktrade.runtime import procinfo, runlog
from peaktrade.runtime.orchestrator import Orchestrator

from .conftest import make_root, peaktrade

pytestmark = pytest.mark.slow


def _play(root, *args):
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), "play", *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_testnet_start_runs_offline_end_to_end_on_the_shipped_defaults(tmp_path):
    root = make_root(tmp_path / "d", bar_seconds=1)  # shipped defaults (bar_seconds as shipped)
    out = _play(root, "testnet-start")
    assert out.returncode == 0, out.stdout + out.stderr
    for step in ("validate", "readiness", "smoke", "start", "follow", "runs"):
        assert f"succeeded  {step} " in out.stdout
    assert "skipped    credentials" in out.stdout  # dummy exchange: no credentials needed
    runs = json.loads(peaktrade(root, "runs", "status", "--json").stdout)
    assert len(runs) == 1 and runs[0]["status"] == "completed" and runs[0]["mode"] == "testnet"
    run_id = runs[0]["run_id"]
    # quick_smoke has ended when the play shows how to read it: no "follow", no "Stop it"
    assert f"peaktrade monitor run --run-id {run_id}" in out.stdout and "Stop it" not in out.stdout
    listed = json.loads(peaktrade(root, "experiments", "list", "--json").stdout)
    assert listed[0]["run_id"] == run_id and listed[0]["bars"] == 30
    assert listed[0]["profile"] == "quick_smoke"
    checklists = list((root / "reports" / "checklists").glob("*_testnet-start_*.md"))
    assert len(checklists) == 1 and run_id in checklists[0].read_text()


def test_shutdown_playbook_stops_the_runs_through_the_orchestrator(tmp_path):
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    recs = [Orchestrator(root).start("testnet", profile="standard", check=False) for _ in range(2)]
    out = _play(root.path, "shutdown", "-p", "reason=test", "--yes")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 registered run(s) and 0 other process(es) signalled; none left" in out.stdout
    for r in recs:
        assert runlog.read_meta(runlog.run_dir(root, r.run_id))["status"] == "stopped"
        assert not procinfo.is_alive(r.pid, r.pid_start)
    assert "System shut down properly" in (root.path / "logs" / "operations.log").read_text()


def test_emergency_playbook_force_kills_and_checks_orders(tmp_path):
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    rec = Orchestrator(root).start("testnet", profile="standard", check=False)
    out = _play(root.path, "shutdown-emergency", "--yes")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 registered run(s) and 0 other process(es) signalled; none left" in out.stdout
    assert "no open orders" in out.stdout
    assert Orchestrator(root).registry.get(rec.run_id).status == "killed"
    [report] = list((root.path / "reports" / "incidents").glob("*shutdown-emergency*.md"))
    assert "high" in report.read_text() and "incident report opened" in out.stdout


def test_pnl_divergence_pauses_a_testnet_run_and_exports_its_pnl(tmp_path):
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    rec = Orchestrator(root).start("testnet", profile="standard", check=False)
    out = _play(root.path, "incident-pnl-divergence", "-p", f"run_id={rec.run_id}",  # mode: from the run id
                "--yes", "--answer", "cause=data")
    assert "pause" in out.stdout and f"{rec.run_id}: stopped" in out.stdout, out.stdout + out.stderr
    assert Orchestrator(root).registry.get(rec.run_id).active is False
    csv = root.path / "reports" / f"{rec.run_id}_events.csv"
    assert csv.is_file() and csv.read_text().startswith("step,")


def test_runs_start_action_refuses_live_and_wrong_mode(root):
    spec = registry.get("runs.start")
    with pytest.raises(BlockedError, match="mode live is refused"):
        spec.fn(ActionContext(root), {"mode": "live"})
    with pytest.raises(BlockedError, match='shadow runs require environment.mode = "paper"'):
        spec.fn(ActionContext(root), {"mode": "shadow"})
    assert Orchestrator(root).registry.list() == []
