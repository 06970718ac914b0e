"""The analysis tests' deployment root: the shared one, in paper mode."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def deploy(deploy: Path) -> Path:
    """The shared fresh root (tests/conftest.py) in paper mode: the analysis tests record shadow runs,
    which need environment.mode = "paper" (runbook 10a.2)."""
    cfg = deploy / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "paper"', 1))
    return deploy
