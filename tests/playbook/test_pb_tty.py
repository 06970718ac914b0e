"""Interactive prompts against a real pseudo-terminal: the operator answers, nothing is assumed."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from pb_helpers import PY, finished, journal, write_playbook


def _read_until(fd: int, needle: bytes, buf: bytearray, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} in {bytes(buf)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                buf += os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break


def test_confirm_manual_decide_answered_on_a_real_terminal(root):
    write_playbook(root, "asks", """
        steps:
          - {id: sure, title: Sure?, effect: read, confirm: "Proceed with the drill?"}
          - {id: hand, title: By hand, effect: read, manual: "Check the dashboard"}
          - id: pick
            title: Pick
            effect: read
            decide: {question: "Which option?", options: {A: keep, B: reduce}}
        """)
    master, slave = pty.openpty()
    env = {**os.environ, "PEAKTRADE_OPERATOR": "tty-op"}
    proc = subprocess.Popen([PY, "-m", "peaktrade", "--root", str(root.path), "play", "asks"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    buf = bytearray()
    try:
        for prompt, answer in [(b"Proceed with the drill? [y/n]", b"y\n"), (b"Done? [y/n]", b"y\n"),
                               (b"Note (optional):", b"all green\n"), (b"Answer (A/B):", b"B\n")]:
            _read_until(master, prompt, buf)
            os.write(master, answer)
        _read_until(master, b"checklist:", buf)
        assert proc.wait(timeout=20) == 0, bytes(buf).decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    recs = finished(journal(root))
    assert recs["sure"]["summary"] == "confirmed by the operator"
    assert recs["hand"]["note"] == "all green" and recs["hand"]["operator"] == "tty-op"
    assert recs["pick"]["answer"] == "B"
