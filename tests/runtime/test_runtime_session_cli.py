"""`peaktrade session run` in the foreground: the orchestrator's mode rule, and Ctrl-C exits 130 (DESIGN 8)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from peaktrade.runtime import runlog

from .conftest import make_root, peaktrade

pytestmark = pytest.mark.slow


def _runs(root):
    base = root / "live_runs"
    return sorted(p.name for p in base.iterdir()) if base.is_dir() else []


@pytest.mark.parametrize(("config_mode", "mode", "needs"), [
    ("live", "testnet", "testnet"),
    ("paper", "testnet", "testnet"),
    ("testnet", "shadow", "paper"),
    ("live", "shadow", "paper"),
])
def test_session_run_applies_the_orchestrators_mode_rule(tmp_path, config_mode, mode, needs):
    root = make_root(tmp_path / "d", mode=config_mode)
    out = peaktrade(root, "session", "run", "--mode", mode, "--profile", "quick_smoke")
    assert out.returncode == 3, out.stdout + out.stderr
    assert f'{mode} runs require environment.mode = "{needs}"' in out.stderr
    assert f'(it is "{config_mode}")' in out.stderr
    # same refusal, same exit code as the orchestrator
    start = peaktrade(root, "runs", f"start-{mode}")
    assert start.returncode == 3 and f'{mode} runs require environment.mode = "{needs}"' in start.stderr
    assert _runs(root) == []  # nothing started, nothing written


def test_session_run_live_is_refused_whatever_the_config(tmp_path):
    for config_mode in ("live", "testnet"):
        root = make_root(tmp_path / config_mode, mode=config_mode)
        out = peaktrade(root, "session", "run", "--mode", "live")
        assert out.returncode == 3 and "mode live is refused" in out.stderr
        assert _runs(root) == []


def test_session_run_in_the_matching_mode_runs(tmp_path):
    root = make_root(tmp_path / "d", mode="paper")
    out = peaktrade(root, "session", "run", "--mode", "shadow", "--profile", "quick_smoke", "--steps", "3")
    assert out.returncode == 0, out.stderr
    [run_id] = _runs(root)
    assert run_id.startswith("shadow_") and runlog.read_meta(root / "live_runs" / run_id)["status"] == "completed"


def _start_foreground(root):
    proc = subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(root), "session", "run", "--mode",
                             "testnet", "--profile", "standard"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        runs = _runs(root)
        if runs and runlog.count_events(root / "live_runs" / runs[0]) >= 2:
            return proc, root / "live_runs" / runs[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the session wrote no events")


def test_ctrl_c_ends_the_session_gracefully_and_exits_130(tmp_path):
    root = make_root(tmp_path / "d")
    proc, run_dir = _start_foreground(root)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    assert f"Session stopped: {run_dir.name}" in out
    meta = runlog.read_meta(run_dir)
    assert meta["status"] == "stopped" and meta["ended_at"]
    assert "Shutdown complete (stopped" in (run_dir / "session.log").read_text()
    assert (run_dir / "events.parquet").is_file()  # the log was closed (compacted)
    status = peaktrade(root, "runs", "status", "--run-id", run_dir.name, "--json")
    assert '"status": "stopped"' in status.stdout


def test_sigterm_still_ends_the_foreground_session_with_0(tmp_path):
    """SIGTERM is a requested stop (as for the orchestrator's workers), not an interruption."""
    root = make_root(tmp_path / "d")
    proc, run_dir = _start_foreground(root)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert runlog.read_meta(run_dir)["status"] == "stopped"
    assert "Shutdown complete" in (run_dir / "session.log").read_text()
