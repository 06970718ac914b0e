"""Fixtures shared by several test areas."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """A fresh deployment root: the repo's shipped config, playbooks, policies and schemas, and live_runs/."""
    for name in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / name, tmp_path / name)
    (tmp_path / "live_runs").mkdir()
    return tmp_path
