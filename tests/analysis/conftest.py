"""A fresh deployment root per test, and helpers to write run logs into it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    for name in ("config", "playbooks", "policies", "schemas"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
    (tmp_path / "live_runs").mkdir()
    # the analysis tests record shadow runs, which need environment.mode = "paper" (runbook 10a.2)
    cfg = tmp_path / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "paper"', 1))
    return tmp_path
