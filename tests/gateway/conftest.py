"""Fixtures of the gateway tests: fresh `peaktrade init` roots and the real CLI in its own process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest


def init_root(base: Path, *, mode: str = "testnet", limits: dict[str, str] | None = None,
              config: dict[str, str] | None = None) -> Path:
    """A root made by `peaktrade init`, with config lines and shadow/testnet limits replaced."""
    out = subprocess.run([sys.executable, "-m", "peaktrade", "init", str(base)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    cfg = base / "config" / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^mode = ".*"$', f'mode = "{mode}"', text, count=1)
    for key, value in {"bar_seconds": "0.05", **(config or {})}.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
    cfg.write_text(text, encoding="utf-8")
    if limits:
        pol = base / "policies" / "risk-limits.yaml"
        text = pol.read_text(encoding="utf-8")
        for key, value in limits.items():  # the same limit in shadow and testnet (the first two stages)
            text = re.sub(rf"(?m)^(    {key}: ).*$", rf"\g<1>{value}", text, count=2)
        pol.write_text(text, encoding="utf-8")
    return base


def cli(root: Path, *args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)


@pytest.fixture
def root_dir(tmp_path: Path) -> Path:
    return init_root(tmp_path / "desk")


def session_wanting_orders(root: Path, *args: str, tries: int = 8) -> tuple[int, str, list[dict], str]:
    """``session run … --json`` until the strategy wants to trade: (exit code, run id, events, stderr).

    A run that wanted none is followed by one on the next market seed (``tests.conftest.next_market_seed``);
    the caller asserts on the first run that wanted orders."""
    from peaktrade.runtime import runlog
    from tests.conftest import next_market_seed

    for _ in range(tries):
        out = cli(root, "session", "run", *args, "--json")
        if out.returncode != 0:
            return out.returncode, "", [], out.stderr
        run_id = json.loads(out.stdout[out.stdout.index("{"):])["run_id"]
        events = runlog.read_events(root / "live_runs" / run_id)
        if any(e["orders_generated"] for e in events):
            return 0, run_id, events, out.stderr
        next_market_seed(root)
    raise AssertionError(f"the strategy wanted no order on {tries} market seeds")
