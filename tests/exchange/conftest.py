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


# --- the loopback Kraken simulator with the real ccxt client (tests/exchange/test_exchange_sim_*.py) ---
SIM_KEY = "sim-test-key-7f3a9c"
SIM_SECRET = "c2ltLXRlc3Qtc2VjcmV0LTBiNWUxZDc3YTk="  # base64 of b"sim-test-secret-0b5e1d77a9"


@pytest.fixture
def make_sim():
    """Start simulators (``make_sim(profile_name="kraken", balances=...)``); all stopped after the test."""
    from peaktrade.exchange.simulator import KrakenSimulator

    started = []

    def make(**kwargs):
        kwargs.setdefault("timeout_delay_s", 0.3)
        kwargs.setdefault("balances", {"EUR": 1_000_000.0})
        sim = KrakenSimulator(SIM_KEY, SIM_SECRET, **kwargs)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def connect():
    """``connect(sim, attempts=4, timeout_ms=100)``: our adapter around the real ccxt kraken client, with a
    fake clock (back-offs are recorded, not slept)."""
    from peaktrade.exchange.ccxt_adapter import CcxtExchange

    def make(sim, *, attempts: int = 4, timeout_ms: int = 100, clock: FakeClock | None = None):
        ex = CcxtExchange("kraken", mode="testnet", api_key=SIM_KEY, secret=SIM_SECRET, rate_limit_ms=0,
                          timeout_ms=timeout_ms, base_url=sim.base_url, execution="sandbox",
                          retry_max_attempts=attempts, retry_base_delay_s=0.5, retry_max_delay_s=4.0,
                          rate_limit_backoff_s=60.0, clock=clock or FakeClock())
        ex.load_markets()
        return ex

    return make
