"""A fresh `peaktrade init` root runs the daily health check offline, as the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _peaktrade(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "peaktrade", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_init_then_health_check_succeeds_offline(tmp_path):
    root = tmp_path / "desk"
    init = _peaktrade("init", str(root), cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    play = _peaktrade("play", "health-check", "--yes", cwd=root)
    assert play.returncode == 0, play.stdout + play.stderr
    assert "Traceback" not in play.stdout + play.stderr
    journals = list((root / "var" / "plays").glob("*/journal.jsonl"))
    checklists = list((root / "reports" / "checklists").glob("*_health-check_*.md"))
    assert len(journals) == 1 and len(checklists) == 1
    oplog = (root / "logs" / "operations.log").read_text().splitlines()
    assert any('playbook/what="Health-Check OK"' in line and "outcome=ok" in line for line in oplog)
    assert any("playbook/what=health-check" in line and "outcome=succeeded" in line for line in oplog)
    for step in ("validate", "readiness", "last-runs", "log-errors", "disk", "processes", "record"):
        assert any(line.split()[:2] == ["succeeded", step] for line in play.stdout.splitlines()), step
