"""A play acts on the inputs it started with, and a resume never repeats an effect (DESIGN 4, 6).

* policies/risk-limits.yaml loosened between the play's start and its act step: that step is blocked,
  naming the file;
* SIGKILL while ``runs.start`` runs, then ``--resume``: the run the step started is found in the desk
  state by its play step, and no second run starts;
* SIGKILL inside a non-idempotent act step: the resume refuses to run it again and says what to check.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import cli, init_root

PY = sys.executable


def _playbook(root: Path, name: str, steps: str) -> None:
    (root / "playbooks" / f"{name}.yaml").write_text(
        f"name: {name}\ntitle: Test {name}\nrunbook: 1\nstage: any\nsteps:\n{steps}", encoding="utf-8")


def test_a_limit_loosened_while_the_play_waits_blocks_its_act_step(tmp_path):
    root = init_root(tmp_path / "desk")
    loosen = ("import pathlib; p = pathlib.Path('policies/risk-limits.yaml'); "
              "p.write_text(p.read_text().replace('max_order_notional: 100.0', 'max_order_notional: 100000.0'))")
    _playbook(root, "pinned", f"""\
  - id: loosen
    title: Someone loosens the live limit while a prompt waits
    run: [{json.dumps(PY)}, -c, {json.dumps(loosen)}]
    effect: read
  - id: act
    title: An act step after it
    action: ops.log
    with: {{message: "after the change"}}
    effect: act
""")
    out = cli(root, "play", "pinned", "--yes", cwd=root)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "blocked    act" in out.stdout
    assert "policies/risk-limits.yaml changed since the play started" in out.stdout
    assert "after the change" not in (root / "logs" / "operations.log").read_text()


def test_every_step_reads_the_settings_the_play_started_with(tmp_path):
    """Config and policies are one snapshot per play (issue 8, item 5): a policy read before a change is
    read again as it was; one first read after a change is blocked naming it, never mixed in."""
    root = init_root(tmp_path / "desk")
    loosen = ("import pathlib; p = pathlib.Path('policies/risk-limits.yaml'); "
              "p.write_text(p.read_text().replace('max_order_notional: 100.0', 'max_order_notional: 100000.0')"
              ".replace('max_order_notional: 1000.0', 'max_order_notional: 100000.0'))")
    _playbook(root, "snapshot", f"""\
  - id: before
    title: The limits at the start
    action: risk.show
    with: {{stage: shadow}}
    effect: read
  - id: loosen
    title: Someone loosens the limits while the play runs
    run: [{json.dumps(PY)}, -c, {json.dumps(loosen)}]
    effect: read
  - id: after
    title: The limits again, later in the play
    action: risk.show
    with: {{stage: shadow}}
    effect: read
""")
    out = cli(root, "play", "snapshot", "--yes", cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    [journal] = (root / "var" / "plays").glob("*/journal.jsonl")
    steps = {r["id"]: r for r in map(json.loads, journal.read_text().splitlines()) if r["type"] == "step_finished"}
    assert steps["before"]["data"]["limits"]["max_order_notional"] == 1000.0
    assert steps["after"]["data"]["limits"]["max_order_notional"] == 1000.0  # the play's snapshot, not the file

    # a policy no step has read yet changes: its first read in the play is blocked, naming the file
    again = ("import pathlib; p = pathlib.Path('policies/risk-limits.yaml'); "
             "p.write_text(p.read_text().replace('max_order_notional: 100000.0', 'max_order_notional: 200000.0'))")
    _playbook(root, "late", f"""\
  - id: loosen
    title: Someone loosens the limits first
    run: [{json.dumps(PY)}, -c, {json.dumps(again)}]
    effect: read
  - id: read
    title: The limits, read for the first time in this play
    action: risk.show
    with: {{stage: shadow}}
    effect: read
""")
    out = cli(root, "play", "late", "--yes", cwd=root)
    assert out.returncode != 0, out.stdout
    assert "policies/risk-limits.yaml changed since the play started" in out.stdout + out.stderr


def _wait(pred, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def _plays_runs(root: Path) -> list[tuple]:
    try:
        con = sqlite3.connect(root / "var" / "desk.sqlite", timeout=5)
        rows = con.execute("SELECT run_id, play_id, step_key FROM runs WHERE play_id != ''").fetchall()
        con.close()
        return rows
    except sqlite3.Error:
        return []


@pytest.mark.slow
def test_resume_after_a_sigkill_during_runs_start_finds_the_run_and_starts_no_second(tmp_path):
    root = init_root(tmp_path / "desk")
    play = subprocess.Popen([PY, "-m", "peaktrade", "--root", str(root), "play", "testnet-start"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait(lambda: _plays_runs(root)), "the play never registered its run"
    os.kill(play.pid, signal.SIGKILL)
    play.communicate(timeout=30)
    [(run_id, play_id, step_key)] = _plays_runs(root)
    assert step_key.endswith(":start")
    out = cli(root, "play", "testnet-start", "--resume", play_id, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Run {run_id} was already started by this step" in out.stdout
    assert [r[0] for r in _plays_runs(root)] == [run_id]
    assert len(list((root / "live_runs").iterdir())) == 1


def _kill_when(root: Path, playbook: str, marker: Path) -> None:
    """Play ``playbook`` in its own process group and SIGKILL the group once ``marker`` exists."""
    play = subprocess.Popen([PY, "-m", "peaktrade", "--root", str(root), "play", playbook, "--yes"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert _wait(lambda: marker.exists())
    os.killpg(play.pid, signal.SIGKILL)
    play.communicate(timeout=30)


@pytest.mark.slow
def test_an_interrupted_act_step_is_not_run_again_blindly(tmp_path):
    root = init_root(tmp_path / "desk")
    marker = tmp_path / "effects.txt"
    _playbook(root, "effectful", f"""\
  - id: effect
    title: An act with an effect that must not happen twice
    run: [sh, -c, "echo once >> {marker}; sleep 30"]
    effect: act
""")
    _kill_when(root, "effectful", marker)
    play_id = sorted(p.name for p in (root / "var" / "plays").iterdir())[-1]
    out = cli(root, "play", "effectful", "--resume", play_id, "--yes")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "was interrupted while it ran (started, never finished)" in out.stdout
    assert marker.read_text() == "once\n"


@pytest.mark.slow
def test_records_appended_to_a_crashed_play_are_detected(tmp_path):
    """Issue 9: the desk state follows a play step by step, so a crashed play's journal verifies with the one
    step that was running at its end, and records appended after it (a step claimed done that never ran) are
    an extension `plays verify` names and `--resume` refuses."""
    from peaktrade.playbook.journal import Journal

    root = init_root(tmp_path / "desk")
    marker = tmp_path / "running"
    _playbook(root, "crashy", f"""\
  - id: first
    title: A step that finishes
    action: ops.log
    with: {{message: "first step"}}
    effect: act
  - id: long
    title: A step the process dies in
    run: [sh, -c, "touch {marker}; sleep 30"]
    effect: read
  - id: backup
    title: A step that never ran
    action: ops.log
    with: {{message: "backup done"}}
    effect: act
""")
    _kill_when(root, "crashy", marker)
    [play_id] = [p.name for p in (root / "var" / "plays").iterdir()]
    out = cli(root, "plays", "verify", play_id, "--json")
    assert out.returncode == 0 and json.loads(out.stdout)[0]["ok"], out.stdout  # a crash is not tampering

    # someone appends, with a valid chain, that the running step and the next one finished
    journal = Journal(root / "var" / "plays" / play_id / "journal.jsonl")
    journal.append("step_finished", step="long", id="long", status="succeeded", summary="exit 0")
    journal.append("step_started", step="backup", id="backup")
    journal.append("step_finished", step="backup", id="backup", status="succeeded", summary="backup done")
    journal.close()
    out = cli(root, "plays", "verify", play_id, "--json")
    [check] = json.loads(out.stdout)
    assert out.returncode == 1 and check["findings"] == ["extended"], out.stdout
    assert "more than the one step that was running" in out.stdout
    out = cli(root, "play", "crashy", "--resume", play_id, "--yes")
    assert out.returncode == 3 and "extended" in out.stdout + out.stderr, out.stdout + out.stderr


@pytest.mark.slow
def test_runs_stop_all_also_stops_runs_registered_while_it_runs(tmp_path):
    """Issue 10: `runs stop --all` issued right after two starts stops both (a start racing the stop)."""
    root = init_root(tmp_path / "desk")
    starts = [subprocess.Popen([PY, "-m", "peaktrade", "--root", str(root), "runs", "start-testnet", "--profile",
                                "standard", "--symbol", sym], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for sym in ("BTC/EUR", "ETH/EUR")]
    time.sleep(0.1)
    stop = cli(root, "runs", "stop", "--all", timeout=180)
    for p in starts:
        p.communicate(timeout=60)
    # whatever the interleaving, nothing is left running once both commands returned and a last stop ran
    again = cli(root, "runs", "stop", "--all", timeout=180)
    assert stop.returncode == 0 and again.returncode == 0, stop.stderr + again.stderr
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    active = "SELECT COUNT(*) FROM runs WHERE status IN ('starting', 'running', 'stopping')"
    assert con.execute(active).fetchone() == (0,)


def test_a_secret_in_notes_is_redacted_in_the_registry_too(tmp_path):
    root = init_root(tmp_path / "desk")
    env = {**os.environ, "KRAKEN_API_SECRET": "s3cr3t-marker-value-77"}
    out = cli(root, "session", "run", "--mode", "testnet", "--profile", "quick_smoke", "--notes",
              "key s3cr3t-marker-value-77", env=env)
    assert out.returncode == 0, out.stderr
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    [(notes,)] = con.execute("SELECT notes FROM runs").fetchall()
    assert "s3cr3t-marker-value-77" not in notes
    for f in (root / "var").glob("desk.sqlite*"):
        assert b"s3cr3t-marker-value-77" not in f.read_bytes()
