"""Issue 11, item 1: shutdown that shuts down, through the CLI, against real processes.

A process of the desk that no registry knows and that ignores SIGTERM (what the seed's
`pkill -9 -f "python.*run_"` is for): `play shutdown` signals it, waits and fails naming it;
`play shutdown-emergency` kills it; a process that keeps coming back fails the emergency play
(exit 1, incident high). A dry run lists what it would stop and returns at once, with no incident.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# ignores SIGTERM like a script without a handler for it would not: only SIGKILL ends it
STUBBORN = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "open(sys.argv[1], 'w').close(); time.sleep(120)")

pytestmark = pytest.mark.slow


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    root = tmp_path / "desk"
    for name in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / name, root / name)
    return root


def _cli(root: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    env = {**os.environ, "PEAKTRADE_OPERATOR": "tester"}
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=timeout)


def _wait_for(path: Path, what: str) -> None:
    for _ in range(500):
        if path.exists():
            return
        time.sleep(0.01)
    raise AssertionError(f"{what} did not start")


@pytest.fixture
def stubborn(desk: Path):
    """A run_* script of this desk (started inside the root) that ignores SIGTERM."""
    ready = desk / "stubborn.ready"
    proc = subprocess.Popen([sys.executable, "-c", STUBBORN, str(ready), "run_stubborn_bot"], cwd=desk)
    _wait_for(ready, "the stubborn process")
    yield proc
    proc.kill()
    proc.wait()


def _alive(proc: subprocess.Popen) -> bool:
    return proc.poll() is None


def test_dry_run_lists_what_it_would_stop_and_returns_at_once(desk, stubborn):
    t0 = time.monotonic()
    out = _cli(desk, "play", "shutdown", "-p", "reason=maintenance", "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert time.monotonic() - t0 < 20  # no 30 s of retries
    assert "succeeded  identify" in out.stdout and f"{stubborn.pid:>7}  " in out.stdout
    assert "would-run  stop" in out.stdout
    assert "skipped    verify-stopped" in out.stdout and "incident:" not in out.stdout
    assert not list((desk / "reports" / "incidents").glob("*.md"))
    assert _alive(stubborn)


def test_shutdown_signals_the_unregistered_process_and_fails_naming_it(desk, stubborn):
    out = _cli(desk, "play", "shutdown", "-p", "reason=maintenance", "-p", "timeout_s=1", "--yes")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "failed     stop" in out.stdout
    assert f"1 process(es) still running after 1 s: {stubborn.pid}" in out.stdout
    assert "run `peaktrade play shutdown-emergency`" in out.stdout
    assert f"STILL RUNNING: {stubborn.pid:>7}  " in out.stdout  # the evidence under the status line
    assert _alive(stubborn)  # SIGTERM only: the graceful path never kills
    (report,) = (desk / "reports" / "incidents").glob("*_shutdown_*.md")
    text = report.read_text()
    assert "| Severity | medium |" in text and "Reason given: maintenance" in text


def test_emergency_kills_it_informs_the_owner_and_opens_a_prefilled_incident(desk, stubborn):
    out = _cli(desk, "play", "shutdown-emergency", "-p", "reason=stubborn run_ script", "--yes",
               "--answer", "liquidate-decide=liquidate")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "succeeded  liquidate " in out.stdout and "no open position on the testnet account" in out.stdout
    assert "0 registered run(s) and 1 other process(es) signalled; none left" in out.stdout
    assert "succeeded  nothing-survived" in out.stdout
    assert "informed alice (owner) via console" in out.stdout + out.stderr
    stubborn.wait(timeout=5)  # killed by SIGKILL
    assert stubborn.returncode == -9
    (report,) = (desk / "reports" / "incidents").glob("*_shutdown-emergency_*.md")
    text = report.read_text()
    assert "| Severity | high |" in text and "Reason given: stubborn run_ script" in text
    assert "`force-kill` | succeeded" in text  # the timeline from the journal
    assert "| Paused | 20" in text and "| Detected | 20" in text  # when the play began and when it stopped them
    assert f"- Other processes of the desk stopped (no run id): pid {stubborn.pid}" in text
    assert "[CRITICAL] playbook:shutdown-emergency" in (desk / "logs" / "alerts.log").read_text()
    listed = _cli(desk, "incident", "list", "--open")
    assert listed.returncode == 0 and "shutdown-emergency" in listed.stdout and "high" in listed.stdout


def test_emergency_fails_when_a_process_keeps_coming_back(desk, tmp_path):
    # a supervisor outside the desk's patterns restarts the process as soon as it dies
    sup = tmp_path / "sup"
    sup.mkdir()
    ready = desk / "respawned.ready"
    (sup / "supervisor.py").write_text(
        "import subprocess, sys\n"
        "while True:\n"
        f"    subprocess.run([sys.executable, '-c', {STUBBORN!r}, {str(ready)!r}, 'run_respawned_bot'],"
        f" cwd={str(desk)!r})\n")
    supervisor = subprocess.Popen([sys.executable, str(sup / "supervisor.py")], cwd=sup, start_new_session=True)
    try:
        _wait_for(ready, "the supervised process")
        out = _cli(desk, "play", "shutdown-emergency", "--yes")  # liquidate? stays unanswered (no terminal)
        assert out.returncode == 1, out.stdout + out.stderr
        assert "failed     liquidate-decide" in out.stdout and "skipped    liquidate " in out.stdout
        assert "failed     nothing-survived" in out.stdout
        assert "(expected none)" in out.stdout
        (report,) = (desk / "reports" / "incidents").glob("*_shutdown-emergency_*.md")
        text = report.read_text()
        assert "Emergency shutdown did not complete" in text and "| Severity | high |" in text
        assert "Reason given: graceful shutdown failed" in text
    finally:
        os.killpg(supervisor.pid, 9)
        supervisor.wait()


def test_emergency_runs_while_the_kill_switch_is_engaged(desk, stubborn):
    assert _cli(desk, "kill-switch", "engage", "--reason", "unexpected fills", "--operator", "bob").returncode == 0
    out = _cli(desk, "play", "shutdown-emergency", "--yes", "--answer", "liquidate-decide=keep")
    assert out.returncode == 0, out.stdout + out.stderr
    for step in ("force-kill", "cancel-orders", "backup", "record", "inform-owner", "nothing-survived", "incident"):
        assert f"succeeded  {step} " in out.stdout, step  # risk-reducing acts pass the engaged switch
    assert "skipped    liquidate " in out.stdout  # keep: advice only
    stubborn.wait(timeout=5)
