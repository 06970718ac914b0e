"""Crashed and lost runs stay in the monitor overview until acknowledged (issue 11, item 4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from peaktrade.errors import UsageError
from peaktrade.monitor.crashed import acknowledge, unacknowledged
from peaktrade.monitor.render import overview_text
from peaktrade.monitor.synthetic import make_events, write_run
from peaktrade.monitor.views import overview
from peaktrade.root import Root

START = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
CRASHED = "testnet_20251207_120000_cccccc"
LOST = "testnet_20251207_110000_dddddd"
DONE = "testnet_20251207_100000_eeeeee"


@pytest.fixture
def runs(deploy):
    write_run(deploy / "live_runs", CRASHED, make_events(5, start=START),
              meta={"status": "crashed", "status_note": "process 4242 ended without a clean shutdown"})
    write_run(deploy / "live_runs", LOST, make_events(5, start=START), meta={"status": "lost"})
    write_run(deploy / "live_runs", DONE, make_events(5, start=START),
              meta={"status": "completed", "ended_at": "2025-12-07T12:05:00Z"})
    return Root(deploy)


def test_overview_shows_crashed_and_lost_until_acknowledged(runs):
    rows = overview(runs, use_cache=False)
    assert {r["run_id"]: r["status"] for r in rows} == {CRASHED: "crashed", LOST: "lost"}
    text = overview_text(rows, include_inactive=False)
    assert "CRASHED" in text and "LOST" in text
    assert f"! run {CRASHED} CRASHED (process 4242 ended without a clean shutdown" in text
    assert {m["run_id"] for m in unacknowledged(runs)} == {CRASHED, LOST}

    ack = acknowledge(runs, CRASHED, by="bob", note="  host   rebooted ", at="2025-12-07T13:00:00Z")
    assert ack == {"run_id": CRASHED, "status": "crashed", "by": "bob", "at": "2025-12-07T13:00:00Z",
                   "note": "host rebooted"}
    assert json.loads((runs.path / "live_runs" / CRASHED / "ack.json").read_text()) == ack
    assert [r["run_id"] for r in overview(runs, use_cache=False)] == [LOST]
    everything = overview(runs, include_inactive=True, use_cache=False)
    assert {r["run_id"] for r in everything} == {CRASHED, LOST, DONE}  # still there with --include-inactive


def test_acknowledge_needs_a_crash_and_a_note(runs):
    with pytest.raises(UsageError, match="is completed, not crashed, lost, failed or killed"):
        acknowledge(runs, DONE, by="bob", note="x", at="now")
    with pytest.raises(UsageError, match="--note: say what you found"):
        acknowledge(runs, LOST, by="bob", note="  ", at="now")
