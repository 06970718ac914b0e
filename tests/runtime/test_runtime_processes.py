"""The orchestrator with real processes: detached runs, graceful stops, stop --all, live refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from peaktrade.runtime import procinfo, runlog
from peaktrade.runtime.orchestrator import Orchestrator

from .conftest import make_root, peaktrade

pytestmark = pytest.mark.slow


def _wait(pred, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_start_shadow_runs_detached_and_stop_is_graceful(tmp_path):
    root = make_root(tmp_path / "d", mode="paper")
    out = peaktrade(root, "runs", "start-shadow", "--strategy", "ma_crossover", "--symbol", "BTC/EUR",
                    "--timeframe", "1m", "--notes", "daily test run", "--json")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    run_id, pid = rec["run_id"], rec["pid"]
    assert runlog.RUN_ID_RE.match(run_id) and run_id.startswith("shadow_")
    # the CLI has exited; the run is its own process, found by its run id as the runbooks expect
    found = subprocess.run(["pgrep", "-af", run_id], capture_output=True, text=True).stdout
    assert str(pid) in found and "peaktrade.runtime.worker" in found
    assert os.getsid(pid) == pid  # its own session: detached from the CLI's terminal
    run_dir = root / "live_runs" / run_id
    _wait(lambda: runlog.count_events(run_dir) >= 3, what="3 events")
    status = json.loads(peaktrade(root, "runs", "status", "--run-id", run_id, "--json").stdout)
    assert status["status"] == "running" and status["notes"] == "daily test run"

    t0 = time.monotonic()
    out = peaktrade(root, "runs", "stop", "--run-id", run_id)
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - t0 < 30
    assert f"Run stopped: {run_id}" in out.stdout
    assert not procinfo.is_alive(pid)
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "stopped" and meta["ended_at"] and meta["notes"] == "daily test run"
    assert "Shutdown complete" in (run_dir / "session.log").read_text()
    assert f"[{run_id}] Shutdown complete" in (root / "logs" / "peaktrade.log").read_text()
    assert (run_dir / "events.parquet").is_file()
    status = json.loads(peaktrade(root, "runs", "status", "--run-id", run_id, "--json").stdout)
    assert status["status"] == "stopped"
    tail = json.loads(peaktrade(root, "runs", "tail", "--run-id", run_id, "--limit", "2", "--json").stdout)
    assert len(tail) == 2 and tail[-1]["step"] == runlog.count_events(run_dir)


def test_stop_all_stops_several(tmp_path):
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    orch = Orchestrator(root)
    recs = [orch.start("testnet", profile="standard", check=False) for _ in range(3)]
    _wait(lambda: all(runlog.count_events(runlog.run_dir(root, r.run_id)) >= 1 for r in recs), what="events")
    out = peaktrade(root.path, "runs", "stop", "--all")
    assert out.returncode == 0, out.stderr
    assert "✅ 3 run(s) stopped" in out.stdout
    for r in recs:
        meta = runlog.read_meta(runlog.run_dir(root, r.run_id))
        assert meta["status"] == "stopped" and meta["ended_at"]
        assert not procinfo.is_alive(r.pid, r.pid_start)
    assert orch.registry.list(active_only=True) == []


def test_wrong_mode_and_live_are_refused(tmp_path):
    root = make_root(tmp_path / "d", mode="testnet")
    out = peaktrade(root, "runs", "start-shadow", "--strategy", "ma_crossover", "--symbol", "BTC/EUR",
                    "--timeframe", "1m")
    assert out.returncode == 3
    assert 'shadow runs require environment.mode = "paper"' in out.stderr
    out = peaktrade(root, "session", "run", "--mode", "live")
    assert out.returncode == 3 and "mode live is refused" in out.stderr
    out = peaktrade(root, "runs", "start-testnet", "--strategy", "nope", "--symbol", "BTC/EUR", "--timeframe", "1m")
    assert out.returncode == 2 and "unknown strategy 'nope'" in out.stderr
    assert not (root / "live_runs").exists() or list((root / "live_runs").iterdir()) == []


def test_stop_that_outlives_the_timeout_kills_and_marks_it(tmp_path):
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    orch = Orchestrator(root)
    rec = orch.start("testnet", profile="standard", check=False)
    run_dir = runlog.run_dir(root, rec.run_id)
    _wait(lambda: runlog.count_events(run_dir) >= 1, what="first event")
    os.kill(rec.pid, 19)  # SIGSTOP: a hung session ignores the polite request
    res = orch.stop(rec.run_id, timeout_s=0.5)
    assert res.outcome == "killed"
    rec2 = orch.registry.get(rec.run_id)
    assert rec2.status == "killed" and "killed after 0.5 s" in rec2.status_note
    assert runlog.read_meta(run_dir)["status"] == "killed"
    assert runlog.read_meta(run_dir)["ended_at"]


def test_session_run_foreground_quick_smoke(tmp_path):
    root = make_root(tmp_path / "d")
    out = peaktrade(root, "session", "run", "--mode", "testnet", "--profile", "quick_smoke", "--json")
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout[out.stdout.index("{"):])
    assert figures["status"] == "completed" and figures["bars"] == 30
    assert "Shutdown complete" in (root / "live_runs" / figures["run_id"] / "session.log").read_text()
    listed = json.loads(peaktrade(root, "experiments", "list", "--json").stdout)
    assert listed[0]["run_id"] == figures["run_id"] and listed[0]["status"] == "completed"
    csv = tmp_path / "e.csv"
    out = peaktrade(root, "experiments", "list", "--run-id", figures["run_id"], "--export-csv", str(csv))
    assert out.returncode == 0 and len(csv.read_text().splitlines()) == 31


def test_two_operators_starting_and_stopping_at_once(tmp_path):
    from peaktrade.root import Root

    root = make_root(tmp_path / "d")
    cmd = [sys.executable, "-m", "peaktrade", "--root", str(root)]
    starts = [subprocess.Popen([*cmd, "runs", "start-testnet", "--allow-duplicate", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in starts]
    assert [p.returncode for p in starts] == [0] * 4, [o[1] for o in outs]
    run_ids = {json.loads(o[0])["run_id"] for o in outs}
    assert len(run_ids) == 4
    stops = [subprocess.Popen([*cmd, "runs", "stop", "--all", "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in stops]
    assert [p.returncode for p in stops] == [0, 0], [o[1] for o in outs]
    r = Root.resolve(root)
    for run_id in run_ids:
        meta = runlog.read_meta(runlog.run_dir(r, run_id))
        assert meta["status"] == "stopped" and meta["ended_at"], meta
    status = json.loads(peaktrade(root, "runs", "status", "--json").stdout)
    assert sorted(s["status"] for s in status) == ["stopped"] * 4
