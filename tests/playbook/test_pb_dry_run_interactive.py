"""--dry-run never prompts and never fails for a confirm, manual or decide step: each is reported as
would-run (what it would ask), with no terminal (cron, CI, ssh without a tty) as on a real one, and no
incident report is written. ``--yes`` does not answer them in a dry run; ``--answer`` previews a branch."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from pb_helpers import PY, cli_proc, finished, journal, write_playbook

ASKS = """
    steps:
      - {id: sure, title: Sure?, effect: read, confirm: "Force-kill all trading processes now?"}
      - {id: hand, title: By hand, effect: read, manual: "Check the dashboard"}
      - id: pick
        title: Pick
        effect: read
        decide: {question: "Which option?", options: {A: keep, B: reduce}}
      - {id: reduce, title: Reduce, effect: read, when: "steps.pick.answer == 'B'", manual: "Reduce it"}
      - {id: after, title: After, effect: read, run: [PYTHON, "-c", "open('after-ran', 'w').write('x')"]}
    """.replace("PYTHON", PY)


def _check(root, proc) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recs = finished(journal(root))
    assert recs["sure"]["status"] == "would-run"
    assert recs["sure"]["summary"] == "would ask: Force-kill all trading processes now? [y/n]"
    assert recs["hand"]["status"] == "would-run"
    assert recs["hand"]["summary"] == "would ask the operator to do and tick off: Check the dashboard"
    assert recs["pick"]["status"] == "would-run" and recs["pick"]["answer"] is None
    assert recs["pick"]["summary"] == "would show options A) keep; B) reduce for: Which option?"
    assert recs["reduce"]["status"] == "skipped"  # no answer in a dry run: documented
    assert recs["after"]["status"] == "succeeded" and (root.path / "after-ran").exists()  # the plan goes on
    assert not (root.path / "reports" / "incidents").exists() or not list((root.path / "reports" / "incidents")
                                                                          .iterdir())
    assert journal(root)[-1]["outcome"] == "succeeded"


def test_dry_run_without_a_terminal_reports_human_steps_as_would_run(root):
    write_playbook(root, "asks", ASKS)
    for extra in ([], ["--yes"]):  # --yes answers nothing in a dry run either
        proc = cli_proc(root, "play", "asks", "--dry-run", *extra)
        _check(root, proc)
        assert "would-run  sure  Sure? (" in proc.stdout
        assert "- would ask: Force-kill all trading processes now? [y/n]\n" in proc.stdout
        assert "Done? [y/n]" not in proc.stdout and "Answer (A/B)" not in proc.stdout  # no prompt printed


def test_dry_run_on_a_real_terminal_does_not_prompt(root):
    write_playbook(root, "asks", ASKS)
    master, slave = pty.openpty()
    env = {**os.environ, "PEAKTRADE_OPERATOR": "tty-op"}
    proc = subprocess.Popen([PY, "-m", "peaktrade", "--root", str(root.path), "play", "asks", "--dry-run"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    buf = bytearray()
    deadline = time.monotonic() + 30
    try:
        while proc.poll() is None and time.monotonic() < deadline:  # nothing is written to the terminal
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    buf += os.read(master, 4096)
                except OSError:
                    break
        assert proc.wait(timeout=5) == 0, bytes(buf).decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = bytes(buf).decode()
    assert "Done? [y/n]" not in text and "Answer (A/B)" not in text
    _check(root, subprocess.CompletedProcess([], 0, text, ""))


def test_dry_run_answer_previews_a_branch(root):
    write_playbook(root, "asks", ASKS)
    proc = cli_proc(root, "play", "asks", "--dry-run", "--answer", "pick=B")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recs = finished(journal(root))
    assert recs["pick"]["status"] == "would-run" and recs["pick"]["answer"] == "B"
    assert recs["pick"]["summary"].startswith("would take answer B (--answer): reduce")
    assert recs["reduce"]["status"] == "would-run"


def test_real_play_without_a_terminal_still_fails_the_confirm(root):
    write_playbook(root, "asks", ASKS)
    proc = cli_proc(root, "play", "asks")
    assert proc.returncode == 1
    assert finished(journal(root))["sure"]["summary"].startswith("confirmation needs an operator at a terminal")
