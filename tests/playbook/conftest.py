"""Shared fixtures of the playbook tests (helpers live in pb_helpers.py, importable by name)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pb_helpers import REPO  # noqa: E402  (registers the test-only actions)

from peaktrade.root import Root  # noqa: E402


@pytest.fixture
def root(tmp_path: Path) -> Root:
    """A fresh deployment root: the repo's shipped config, playbooks, policies and schemas."""
    base = tmp_path / "deploy"
    base.mkdir()
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, base / d)
    return Root(base)
