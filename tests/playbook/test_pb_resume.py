"""Resume after SIGKILL, refusals on changed files or a tampered journal, SIGINT/SIGTERM -> 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from pb_helpers import PY, cli_proc, finished, journal, write_playbook

from peaktrade.playbook.journal import verify_journal

SIDE = "open('side', 'a').write('1\\n')"
HOLD = ("import os, time\nopen('pid2.tmp', 'w').write(str(os.getpid()))\nos.replace('pid2.tmp', 'pid2')\n"
        "while os.path.exists('hold'): time.sleep(0.02)")


def _resumable(root):
    write_playbook(root, "resumable", f"""
        steps:
          - id: one
            title: Side effect
            effect: act
            run: {json.dumps([PY, "-c", SIDE])}
          - id: two
            title: Waits while the hold file exists
            effect: read
            run: {json.dumps([PY, "-c", HOLD])}
          - id: three
            title: Last
            effect: act
            run: {json.dumps([PY, "-c", "open('side3', 'a').write('3')"])}
        """)
    (root.path / "hold").write_text("")


def _start_and_wait_for_two(root) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PEAKTRADE_OPERATOR": "tester"}
    proc = subprocess.Popen([PY, "-m", "peaktrade", "--root", str(root.path), "play", "resumable"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # a real process: poll its journal
        plays = list(root.plays_dir.glob("*/journal.jsonl")) if root.plays_dir.exists() else []
        # step two has started and its process is running (it wrote its pid)
        if plays and (root.path / "pid2").exists() and any(
                r["type"] == "step_started" and r["step"] == "two" for r in _safe_records(plays[0])):
            return proc, plays[0].parent.name
        time.sleep(0.02)
    proc.kill()
    pytest.fail("play did not reach step two")


def _safe_records(path):
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return out


def test_resume_after_sigkill_does_not_rerun_succeeded_steps(root):
    _resumable(root)
    proc, play_id = _start_and_wait_for_two(root)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    (root.path / "hold").unlink()  # lets the orphaned step-two process end
    assert verify_journal(root.plays_dir / play_id / "journal.jsonl").ok
    res = cli_proc(root, "play", "resumable", "--resume", play_id)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (root.path / "side").read_text() == "1\n"  # step one ran exactly once
    assert (root.path / "side3").read_text() == "3"
    recs = journal(root, play_id)
    assert [r["type"] for r in recs].count("play_resumed") == 1
    assert [r["step"] for r in recs if r["type"] == "step_finished"] == ["one", "two", "three"]
    assert [r["step"] for r in recs if r["type"] == "step_started"].count("one") == 1
    assert recs[-1]["type"] == "play_finished" and recs[-1]["outcome"] == "succeeded"
    assert verify_journal(root.plays_dir / play_id / "journal.jsonl").ok
    assert "succeeded* one" in res.stdout


def _killed_play(root) -> str:
    _resumable(root)
    proc, play_id = _start_and_wait_for_two(root)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    (root.path / "hold").unlink()
    return play_id


def test_resume_refuses_changed_playbook_and_policies(root):
    play_id = _killed_play(root)
    policy = root.policies_dir / "risk-limits.yaml"
    policy.write_text(policy.read_text() + "\n# edited\n")
    res = cli_proc(root, "play", "resumable", "--resume", play_id)
    assert res.returncode == 3
    assert f"cannot resume play {play_id}: changed since it started: policies/risk-limits.yaml" in res.stderr
    pb = root.playbook_file("resumable")
    pb.write_text(pb.read_text() + "\n# edited\n")
    res = cli_proc(root, "play", "resumable", "--resume", play_id)
    assert res.returncode == 3
    assert "changed since it started: playbooks/resumable.yaml, policies/risk-limits.yaml" in res.stderr
    assert not (root.path / "side3").exists()


def test_resume_refuses_tampered_journal(root):
    play_id = _killed_play(root)
    path = root.plays_dir / play_id / "journal.jsonl"
    path.write_text(path.read_text().replace('"tester"', '"mallory"', 1))
    res = cli_proc(root, "play", "resumable", "--resume", play_id)
    assert res.returncode == 3
    assert "its journal is TAMPERED" in res.stderr
    show = cli_proc(root, "plays", "show", play_id)
    assert show.returncode == 1 and "journal integrity: TAMPERED" in show.stdout


def test_resume_wrong_playbook_or_unknown_play_is_usage_error(root):
    play_id = _killed_play(root)
    assert cli_proc(root, "play", "health-check", "--resume", play_id).returncode == 2
    assert cli_proc(root, "play", "resumable", "--resume", "nope").returncode == 2


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_journals_renders_and_exits_130(root, sig):
    _resumable(root)
    proc, play_id = _start_and_wait_for_two(root)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, out.decode() + err.decode()
    recs = journal(root, play_id)
    assert recs[-1]["type"] == "play_interrupted"
    assert "two" not in finished(recs)
    assert verify_journal(root.plays_dir / play_id / "journal.jsonl").ok
    (checklist,) = root.checklists_dir.glob(f"*_{play_id}.md")
    text = checklist.read_text()
    assert "**interrupted**" in text and "started, not finished" in text
    assert "outcome=interrupted" in root.operations_log.read_text()
    # the step's process went down with the play although the hold file still exists
    pid = int((root.path / "pid2").read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid)
    (root.path / "hold").unlink()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
