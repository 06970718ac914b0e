"""OHLC as Kraken serves it: the last 720 candles whatever `since` asks, and only Kraken's intervals."""

from __future__ import annotations

import time

import pytest

from peaktrade.exchange.base import ExchangeAPIError
from peaktrade.exchange.sim.pairs import OHLC_INTERVALS


def test_history_is_capped_at_the_last_720_candles(make_sim, connect):
    ex = connect(make_sim(), timeout_ms=5000)  # 720 fresh candles take a moment
    now = time.time() * 1000
    week_ago = int(now - 7 * 86400_000)
    bars = ex.fetch_ohlcv("BTC/EUR", "1m", since=week_ago, limit=5000)
    assert 700 <= len(bars) <= 720  # not the 10,080 minutes asked for
    assert bars[0][0] >= now - 721 * 60_000
    recent = ex.fetch_ohlcv("BTC/EUR", "1h", since=int(now - 5 * 3600_000))
    assert 4 <= len(recent) <= 6 and all(b[0] % 3600_000 == 0 for b in recent)


def test_only_krakens_intervals(make_sim, connect):
    sim = make_sim()
    ex = connect(sim, timeout_ms=5000)
    assert OHLC_INTERVALS == (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
    with pytest.raises(ExchangeAPIError) as err:
        ex.fetch_ohlcv("BTC/EUR", "3m")
    assert err.value.exchange_code == "EGeneral:Invalid arguments"
    import ccxt

    with pytest.raises(ccxt.BadRequest, match="EGeneral:Invalid arguments"):
        ex.ccxt.publicGetOHLC({"pair": "XXBTZEUR", "interval": 2})
    for minutes in OHLC_INTERVALS[:3]:
        assert ex.ccxt.publicGetOHLC({"pair": "XXBTZEUR", "interval": minutes})["result"]["XXBTZEUR"]


def test_weekly_and_fifteen_day_candles(make_sim, connect):
    ex = connect(make_sim(), timeout_ms=5000)  # 720 fresh candles take a moment
    weeks = ex.fetch_ohlcv("BTC/EUR", "1w", limit=3)
    assert len(weeks) == 3 and weeks[1][0] - weeks[0][0] == 7 * 86400_000
