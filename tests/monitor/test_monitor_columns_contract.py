"""The fast column reader agrees with the runtime's own reader on files the runtime's writer made."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from peaktrade.clock import FakeClock
from peaktrade.monitor.columns import last_events, parse_ts_ns, read_columns


@pytest.mark.parametrize("n, compact_every", [(7, 1000), (23, 5), (40, 10)])
def test_read_columns_equals_runtime_read_events(tmp_path, n, compact_every):
    from peaktrade.runtime.runlog import read_events
    from peaktrade.runtime.writer import RunLogWriter

    clock = FakeClock(datetime(2025, 12, 7, 12, tzinfo=UTC))
    d = tmp_path / "shadow_20251207_120000_abcdef"
    with RunLogWriter(d, compact_every=compact_every, clock=clock) as w:
        for i in range(n):
            clock.advance(60)
            w.append({"ts_event": clock.now(), "ts_bar": clock.now() - timedelta(seconds=60), "equity": 100.0 + i,
                      "orders_rejected": i % 3, "orders_blocked": 1 if i == 5 else 0,
                      "error": "ExchangeNetworkError: timeout" if i % 4 == 0 else None})
            if i == n // 2:
                # read in the middle of the run too: part Parquet, part JSONL
                mid = read_columns(d, ["equity"])
                assert list(mid["step"]) == [e["step"] for e in read_events(d)]
    events = read_events(d)
    cols = read_columns(d, ["ts_event", "equity", "orders_rejected", "orders_blocked", "has_error"])
    assert list(cols["step"]) == [e["step"] for e in events]
    assert list(cols["ts_event"]) == [parse_ts_ns(e["ts_event"]) for e in events]
    assert list(cols["equity"]) == [e["equity"] for e in events]
    assert list(cols["orders_rejected"]) == [e["orders_rejected"] for e in events]
    assert list(cols["has_error"]) == [bool(e["error"]) for e in events]
    tail = last_events(d, 5)
    assert [e["step"] for e in tail] == [e["step"] for e in events[-5:]]
    assert [e["ts_event"] for e in tail] == [e["ts_event"] for e in events[-5:]]


def test_nulls_in_numeric_columns_become_nan(tmp_path):
    from peaktrade.monitor.synthetic import make_events, write_parquet

    events = make_events(3, start=datetime(2025, 12, 7, tzinfo=UTC))
    events[1]["equity"] = None
    d = tmp_path / "r"
    d.mkdir()
    write_parquet(d / "events.parquet", events)
    eq = read_columns(d, ["equity"])["equity"]
    assert eq[0] == 10_000.0 and math.isnan(eq[1])


@pytest.mark.parametrize("n, compact_every", [(1, 1000), (30, 7), (50, 10)])
def test_summary_from_parquet_statistics_equals_the_full_fold(tmp_path, n, compact_every):
    from peaktrade.monitor.summary import _full, fold_columns
    from peaktrade.runtime.writer import RunLogWriter

    clock = FakeClock(datetime(2025, 12, 7, 12, tzinfo=UTC))
    d = tmp_path / "shadow_20251207_120000_abcdef"
    with RunLogWriter(d, compact_every=compact_every, clock=clock) as w:
        for i in range(n):
            clock.advance(60)
            w.append({"ts_event": clock.now(), "equity": 100.0 + (i % 7) * (-1) ** i})
            if i == n - 3:
                assert _full(d)[0] == fold_columns(read_columns(d, ["ts_event", "equity"]))
    assert (d / "events.parquet").is_file()
    fast, _ = _full(d)
    assert fast == fold_columns(read_columns(d, ["ts_event", "equity"]))
    assert fast.events == n
