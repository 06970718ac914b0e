"""`peaktrade play X | head -1`: the reader of stdout goes away mid-play. The play still ends with its
real outcome (journal, operations.log, exit code) - not 'failed: internal error: BrokenPipeError'."""

from __future__ import annotations

import json
import os
import subprocess

from pb_helpers import PY, write_playbook


def test_play_survives_a_closed_stdout_pipe(root):
    write_playbook(root, "chatty", """
        steps:
          - id: one
            title: One
            action: disk.check
            effect: read
          - id: two
            title: Two
            action: disk.check
            effect: read
          - id: three
            title: Three
            action: ops.log
            with: {message: chatty done}
            effect: act
        """)
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: the first write raises BrokenPipeError (SIGPIPE is ignored by Python)
    try:
        proc = subprocess.run([PY, "-m", "peaktrade", "--root", str(root.path), "play", "chatty"],
                              stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=60, env={**os.environ, "PEAKTRADE_OPERATOR": "tester"})
    finally:
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr
    (play_dir,) = root.plays_dir.iterdir()
    records = [json.loads(line) for line in (play_dir / "journal.jsonl").read_text().splitlines()]
    assert records[-1]["type"] == "play_finished" and records[-1]["outcome"] == "succeeded"
    assert "chatty done" in (root.path / "logs" / "operations.log").read_text()
