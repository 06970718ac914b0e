"""Runbook 10: gaps in cached candles and in run events; backfill from the (offline) dummy exchange."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from peaktrade.analysis.datagaps import backfill
from peaktrade.analysis.ohlcv import find_gaps, read_cached, write_cached
from peaktrade.cli import run
from peaktrade.clock import FakeClock
from peaktrade.monitor.synthetic import make_events, write_run
from peaktrade.root import Root

M = 60_000
T0 = 1_765_108_800_000  # 2025-12-07T12:00:00Z
CACHE = "data/dummy/BTC-EUR_1m.csv"


def _candles(minutes):
    return [[T0 + m * M, 1.0, 2.0, 0.5, 1.5, 3.0] for m in minutes]


def test_find_gaps_is_exact():
    gaps = find_gaps([T0, T0 + M, T0 + 4 * M, T0 + 5 * M, T0 + 7 * M], M)
    assert [(g.after_ms, g.before_ms, g.missing) for g in gaps] == [
        (T0 + M, T0 + 4 * M, 2), (T0 + 5 * M, T0 + 7 * M, 1)]
    assert find_gaps([T0, T0 + M, T0 + M], M) == []  # duplicates are not gaps


def test_cache_round_trip_merges_and_sorts(deploy):
    path = deploy / CACHE
    assert write_cached(path, _candles([3, 1])) == 2
    assert write_cached(path, _candles([2, 3])) == 1
    assert [c[0] for c in read_cached(path)] == [T0 + M, T0 + 2 * M, T0 + 3 * M]
    assert path.read_text().splitlines()[0] == "ts_ms,open,high,low,close,volume"


def test_data_gaps_cli_on_cached_candles(deploy, capsys):
    write_cached(deploy / CACHE, _candles([0, 1, 2, 5, 6]))
    assert run(["--root", str(deploy), "data", "gaps", "--symbol", "BTC/EUR", "--timeframe", "1m"]) == 1
    out = capsys.readouterr().out
    assert "GAP after 2025-12-07T12:02:00Z, before 2025-12-07T12:05:00Z: 2 candle(s) missing" in out
    assert out.rstrip().endswith("1 gap(s), 2 candle(s) missing")
    write_cached(deploy / CACHE, _candles([3, 4]))
    assert run(["--root", str(deploy), "data", "gaps", "--symbol", "BTC/EUR", "--timeframe", "1m", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["gaps"] == [] and report["candles"] == 7 and report["source"] == CACHE


def test_data_gaps_cli_on_run_events(deploy, capsys):
    start = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
    events = make_events(6, start=start)
    for i, e in enumerate(events):  # bars 0,1,2 then 6,7,8: three missing, one gap event logged
        minute = i if i < 3 else i + 3
        e["ts_bar"] = (start + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    events.insert(3, {**events[2], "step": 3, "kind": "gap", "error": "Gap detected: 3 bar(s) missing"})
    for i, e in enumerate(events):
        e["step"] = i + 1
    run_id = "shadow_20251207_120000_0a0b0c"
    write_run(deploy / "live_runs", run_id, events)
    assert run(["--root", str(deploy), "data", "gaps", "--run-id", run_id, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["gap_events"] == 1 and report["candles"] == 6 and report["missing"] == 3
    assert [(g["from"], g["to"], g["missing"]) for g in report["gaps"]] == [
        ("2025-12-07T12:02:00Z", "2025-12-07T12:06:00Z", 3)]


def test_bad_input_is_exit_2(deploy, capsys):
    assert run(["--root", str(deploy), "data", "gaps", "--symbol", "BTCEUR"]) == 2
    assert run(["--root", str(deploy), "data", "gaps", "--timeframe", "7x"]) == 2
    assert run(["--root", str(deploy), "data", "gaps"]) == 2  # nothing cached yet
    err = capsys.readouterr().err
    assert "is not a market like BTC/EUR" in err and "Unsupported timeframe '7x'" in err
    assert "peaktrade data backfill --symbol BTC/EUR --timeframe 1m" in err


def test_unknown_market_is_bad_input(deploy, capsys):
    assert run(["--root", str(deploy), "backtest", "--symbol", "FOO/BAR", "--start", "2025-12-07T10:00:00Z",
                "--end", "2025-12-07T11:00:00Z"]) == 2
    assert run(["--root", str(deploy), "data", "backfill", "--symbol", "FOO/BAR"]) == 2
    err = capsys.readouterr().err
    assert err.count("unknown market 'FOO/BAR' on dummy (e.g. BTC/EUR, ETH/EUR)") == 2


def test_backfill_fills_the_cache_and_is_idempotent(deploy):
    clock = FakeClock(datetime(2025, 12, 7, 14, 0, 30, tzinfo=UTC))
    r = backfill(Root(deploy), start="2025-12-07T12:00:00Z", end="2025-12-07T15:00:00Z", clock=clock)
    # only closed candles: the 14:00 candle is still forming at 14:00:30
    assert (r["start"], r["end"], r["fetched"], r["added"], r["gaps"]) == (
        "2025-12-07T12:00:00Z", "2025-12-07T13:59:00Z", 120, 120, [])
    again = backfill(Root(deploy), start="2025-12-07T12:00:00Z", end="2025-12-07T15:00:00Z", clock=clock)
    assert (again["fetched"], again["added"], again["candles"]) == (120, 0, 120)
    assert [c[0] for c in read_cached(deploy / CACHE)][:2] == [T0, T0 + M]


def test_backfill_reports_exchange_failure_as_check_failed(deploy, capsys, monkeypatch):
    from peaktrade.exchange.dummy import DummyExchange

    def down(self, *a, **k):
        from peaktrade.exchange.base import ExchangeNetworkError

        raise ExchangeNetworkError("Request timeout")

    monkeypatch.setattr(DummyExchange, "fetch_ohlcv", down)
    assert run(["--root", str(deploy), "data", "backfill", "--start", "2025-12-07T12:00:00Z",
                "--end", "2025-12-07T13:00:00Z"]) == 1
    assert "backfill of BTC/EUR 1m failed: Request timeout" in capsys.readouterr().err
