"""Fixtures for action tests: a fresh deployment root and an ActionContext on a fake clock."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path):
    from peaktrade.root import Root

    for name in ("config", "playbooks", "policies", "schemas"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, tmp_path / name)
    return Root(tmp_path.resolve())


@pytest.fixture
def ctx(root):
    from peaktrade.actions.registry import ActionContext
    from peaktrade.clock import FakeClock

    return ActionContext(root=root, operator="alice", play_id="play-1", playbook="test", step_id="s",
                         clock=FakeClock(), echo=lambda _line: None)


@pytest.fixture
def act():
    """Call a registered action by name after checking its args against its own schema."""
    from peaktrade.actions import registry
    from peaktrade.schemas import validator_for

    def call(name: str, ctx, **args):
        spec = registry.get(name)
        assert spec is not None, f"action {name} not registered"
        errors = [e.message for e in validator_for(spec.schema).iter_errors(args)]
        assert not errors, errors
        return spec.fn(ctx, args)

    return call
