"""Fixtures for validation tests: the repo root as a deployment root, and fresh copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def repo_root():
    from peaktrade.root import Root

    return Root(REPO)


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    """A fresh deployment root: the shipped config, playbooks, policies and schemas."""
    for name in ("config", "playbooks", "policies", "schemas"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""
    from peaktrade.cli import _common, run

    def invoke(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        _common.STATE.root_arg = None
        capsys.readouterr()
        code = run(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
