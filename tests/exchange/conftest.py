from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from peaktrade.clock import FakeClock

REPO = Path(__file__).resolve().parents[2]

DUMMY = {
    "seed": 42, "bar_seconds": 1, "start_prices": {"BTC/EUR": 60000.0, "ETH/EUR": 3000.0},
    "volatility": 0.002, "fee_rate": 0.0026, "slippage_bps": 5.0, "starting_balance": {"EUR": 10000.0},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def droot(tmp_path: Path) -> Path:
    """A fresh deployment root: the repo's shipped config/, playbooks/, policies/, schemas/."""
    root = tmp_path / "deploy"
    root.mkdir()
    for name in ("config", "playbooks", "policies", "schemas"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        else:
            (root / name).mkdir()
    return root
