"""Fixtures of the runtime tests: a fresh deployment root (a copy of the shipped defaults)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def make_root(base: Path, *, mode: str = "testnet", bar_seconds: float = 0.05, compact_every: int = 5000,
              extra: Callable[[str], str] | None = None) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, base / d)
    cfg = base / "config" / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^mode = ".*"$', f'mode = "{mode}"', text, count=1)
    text = re.sub(r"(?m)^bar_seconds = .*$", f"bar_seconds = {bar_seconds}", text, count=1)
    text = re.sub(r"(?m)^compact_every = .*$", f"compact_every = {compact_every}", text, count=1)
    if extra:
        text = extra(text)
    cfg.write_text(text, encoding="utf-8")
    return base


@pytest.fixture
def root_dir(tmp_path: Path) -> Path:
    return make_root(tmp_path / "deploy")


@pytest.fixture
def root(root_dir: Path):
    from peaktrade.root import Root

    return Root.resolve(root_dir)


def peaktrade(root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real CLI in its own process (as an operator would)."""
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=timeout)
