"""Shared fixtures of the policy tests: a fresh deployment root copied from the repo's defaults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path):
    from peaktrade.root import Root

    for d in ("config", "playbooks", "policies", "schemas"):
        if (REPO / d).is_dir():
            shutil.copytree(REPO / d, tmp_path / d)
    return Root(tmp_path)


@pytest.fixture
def clock():
    from peaktrade.clock import FakeClock

    return FakeClock()


@pytest.fixture
def set_yaml(root):
    """Edit a policy file of the test root by text replacement (keeps comments and modeline)."""
    return lambda name, old, new: _set_yaml(root, name, old, new)


def _set_yaml(root, name: str, old: str, new: str) -> None:
    path = root.policy_file(name)
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
