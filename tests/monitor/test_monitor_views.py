"""Monitor overview / run / follow over run logs in the runtime's on-disk format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from peaktrade.cli import run
from peaktrade.clock import FakeClock
from peaktrade.monitor.follow import follow
from peaktrade.monitor.summary import SummaryCache
from peaktrade.monitor.synthetic import make_events, write_parquet, write_run
from peaktrade.monitor.views import overview, run_detail
from peaktrade.root import Root

START = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
A = "shadow_20251207_120000_aaaaaa"
B = "testnet_20251207_130000_bbbbbb"


def _append(run_dir, events):
    with open(run_dir / "events.jsonl", "a") as fh:
        for e in events:
            fh.write(json.dumps(e) + "\n")


@pytest.fixture
def two_runs(deploy):
    runs = deploy / "live_runs"
    write_run(runs, A, make_events(4, start=START, equity=[100.0, 120.0, 90.0, 108.0]))
    write_run(runs, B, make_events(3, start=START + timedelta(hours=1), equity=[50.0, 55.0, 60.0]),
              meta={"ended_at": "2025-12-07T13:05:00Z"})
    return deploy


def test_overview_rows_and_drawdown(two_runs):
    [row] = overview(Root(two_runs))
    assert row["run_id"] == A and row["active"] is True
    assert [row[k] for k in ("mode", "strategy", "symbol", "timeframe")] == ["shadow", "ma_crossover", "BTC/EUR", "1m"]
    assert row["last_event"] == "2025-12-07T12:03:00Z"
    assert row["equity"] == 108.0 and row["pnl"] == 8.0
    assert row["drawdown"] == pytest.approx(108 / 120 - 1)  # current: equity / running peak - 1
    assert row["max_drawdown"] == pytest.approx(90 / 120 - 1)


def test_overview_include_inactive_and_max_age(two_runs):
    rows = overview(Root(two_runs), include_inactive=True)
    assert [(r["run_id"], r["active"]) for r in rows] == [(B, False), (A, True)]  # newest first
    now = datetime(2025, 12, 7, 13, 30, tzinfo=UTC)
    recent = overview(Root(two_runs), include_inactive=True, max_age_hours=1, now=now)
    assert [r["run_id"] for r in recent] == [B]


def test_cache_follows_appends_and_compaction(two_runs):
    root = Root(two_runs)
    first = overview(root)[0]
    cache_file = two_runs / "var" / "cache" / "monitor-summaries.json"
    assert cache_file.is_file()
    d = two_runs / "live_runs" / A
    more = make_events(3, start=START + timedelta(minutes=4), equity=[130.0, 65.0, 70.0], first_step=4)
    _append(d, more)
    grown = overview(root)[0]
    assert grown["events"] == 7 and grown["equity"] == 70.0
    assert grown["max_drawdown"] == pytest.approx(65 / 130 - 1) and first["events"] == 4
    # the runtime compacts: everything into Parquet, JSONL truncated to the newest event only
    all_events = make_events(4, start=START, equity=[100.0, 120.0, 90.0, 108.0]) + more
    write_parquet(d / "events.parquet", all_events[:6])
    (d / "events.jsonl").write_text(json.dumps(all_events[6]) + "\n")
    compacted = overview(root)[0]
    assert {k: compacted[k] for k in ("events", "equity", "pnl", "max_drawdown")} == \
           {k: grown[k] for k in ("events", "equity", "pnl", "max_drawdown")}
    # a cache-less evaluation agrees with the cached one
    assert overview(root, use_cache=False)[0] == compacted


def test_incremental_fold_equals_full_fold_for_any_split(deploy):
    import random

    rng = random.Random(3)
    equity = [100 + rng.uniform(-20, 20) for _ in range(60)]
    events = make_events(60, start=START, equity=equity)
    d = write_run(deploy / "live_runs", A, events[:1])
    cache = SummaryCache(None)
    i = 1
    while i < 60:
        j = min(60, i + rng.randint(1, 9))
        _append(d, events[i:j])
        cache.fold(d)
        i = j
    full = SummaryCache(None).fold(d)
    assert cache.fold(d) == full and full.events == 60


def test_torn_last_line_is_not_an_event(deploy):
    d = write_run(deploy / "live_runs", A, make_events(3, start=START))
    with open(d / "events.jsonl", "a") as fh:
        fh.write('{"step": 3, "ts_event": "2025-12-07T12:0')  # writer mid-append
    assert overview(Root(deploy))[0]["events"] == 3


def test_run_detail_metrics_and_last_events(deploy):
    events = make_events(12, start=START, equity=[100.0 + i for i in range(12)],
                         orders_rejected=[0] * 11 + [2], error=[None] * 10 + ["timeout", None])
    write_run(deploy / "live_runs", A, events, parquet_upto=8, jsonl_from=6)
    detail = run_detail(Root(deploy), A, last=5)
    m = detail["metrics"]
    assert (m["events"], m["equity"], m["pnl"], m["orders_rejected"], m["error_events"]) == (12, 111.0, 11.0, 2, 1)
    assert m["drawdown"] == 0.0 and m["max_drawdown"] == 0.0
    assert [e["step"] for e in detail["last_events"]] == [7, 8, 9, 10, 11]
    assert detail["last_events"][0]["ts_event"] == "2025-12-07T12:07:00Z"


def test_cli_overview_and_run(two_runs, capsys):
    assert run(["--root", str(two_runs), "monitor", "overview", "--include-inactive"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["RUN", "ID", "HOST", "MODE", "STRATEGY", "SYMBOL", "TF", "ACTIVE", "LAST", "EVENT",
                              "EQUITY", "PNL", "DRAWDOWN"]
    assert out[2].split() == [A, "-", "shadow", "ma_crossover", "BTC/EUR", "1m", "yes", "2025-12-07T12:03:00Z",
                              "108.00", "8.00", "-10.00%"]
    assert run(["--root", str(two_runs), "monitor", "run", "--run-id", B, "--json"]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["run"]["active"] is False and detail["metrics"]["pnl"] == 10.0
    assert run(["--root", str(two_runs), "monitor", "run", "--run-id", "../etc"]) == 2
    assert "invalid run id" in capsys.readouterr().err


class _WriterClock(FakeClock):
    """Each sleep lets the 'runtime' append the next batch of events (no real waiting)."""

    def __init__(self, run_dir, batches):
        super().__init__()
        self.run_dir, self.batches = run_dir, list(batches)

    def sleep(self, seconds):
        super().sleep(seconds)
        if self.batches:
            batch = self.batches.pop(0)
            if batch == "end":
                meta = json.loads((self.run_dir / "meta.json").read_text())
                (self.run_dir / "meta.json").write_text(json.dumps({**meta, "ended_at": "2025-12-07T12:10:00Z"}))
            else:
                _append(self.run_dir, batch)


def test_follow_shows_new_events_then_stops_when_run_ends(deploy):
    d = write_run(deploy / "live_runs", A, make_events(3, start=START, equity=[100.0, 110.0, 105.0]))
    later = make_events(2, start=START + timedelta(minutes=3), equity=[99.0, 121.0], first_step=3)
    clock = _WriterClock(d, [[later[0]], [], [later[1]], "end"])
    lines: list[str] = []
    assert follow(Root(deploy), A, interval=2.0, clock=clock, out=lines.append) == 0
    text = "\n".join(lines)
    assert clock.sleeps == [2.0] * 4
    assert "events 4, equity 99.00, pnl -1.00, drawdown -10.00%" in text
    assert "events 5, equity 121.00, pnl 21.00, drawdown 0.00%" in text
    assert text.count("2025-12-07T12:03:00Z") == 1  # every event shown exactly once
    assert lines[-1] == f"run {A} has ended (last event 2025-12-07T12:04:00Z); stopped following"


def test_cli_follow_max_refreshes_exits_0(deploy, capsys):
    write_run(deploy / "live_runs", A, make_events(2, start=START))
    rc = run(["--root", str(deploy), "monitor", "follow", "--run-id", A, "--refresh-interval", "0",
              "--max-refreshes", "2"])
    assert rc == 0
    assert f"following {A} every 0 s (Ctrl-C to stop)" in capsys.readouterr().out
    assert run(["--root", str(deploy), "monitor", "follow", "--run-id", A, "--refresh-interval", "0"]) == 2
    assert "--refresh-interval must be at least 0.1 s, not 0" in capsys.readouterr().err


def test_cli_follow_ctrl_c_is_exit_0(deploy, capsys, monkeypatch):
    write_run(deploy / "live_runs", A, make_events(2, start=START))
    import peaktrade.clock as clock_mod

    def interrupt(self, seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(clock_mod.SystemClock, "sleep", interrupt)
    assert run(["--root", str(deploy), "monitor", "follow", "--run-id", A]) == 0
    assert "stopped following" in capsys.readouterr().out
