"""Fault tests with real processes: SIGKILL at random moments loses no written event; SIGTERM is graceful."""

from __future__ import annotations

import os
import random
import signal
import time

import pandas as pd
import pytest

from peaktrade.root import Root
from peaktrade.runtime import procinfo, runlog
from peaktrade.runtime.orchestrator import Orchestrator

from .conftest import make_root

pytestmark = pytest.mark.slow


def _gone(pid: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        procinfo.reap(pid)
        if not procinfo.is_alive(pid):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still alive")


def test_sigkill_at_random_moments_loses_no_written_event(tmp_path):
    # tiny bars and compaction every 7 events, so kills land in appends, compactions and start-up alike
    root = Root.resolve(make_root(tmp_path / "d", bar_seconds=0.05, compact_every=7))
    orch = Orchestrator(root)
    rng = random.Random(20251207)
    kills = 0
    longest = 0
    for _round in range(4):
        recs = [orch.start("testnet", profile="standard", check=False) for _ in range(6)]
        seen: dict[str, list[dict]] = {}
        for i, rec in enumerate(recs):
            # random moments from "still importing" to "several compactions and a JSONL trim in" (the
            # trim comes after four rounds of 7 events; compactions run in the writer's background thread)
            target = 0 if i == 0 else rng.randint(1, 60)
            run_dir = runlog.run_dir(root, rec.run_id)
            end = time.monotonic() + 15
            while runlog.count_events(run_dir) < target and time.monotonic() < end:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.05))
            seen[rec.run_id] = runlog.read_events(run_dir)  # what counts as written before the kill
            os.kill(rec.pid, signal.SIGKILL)
            kills += 1
            longest = max(longest, len(seen[rec.run_id]))
        for rec in recs:
            _gone(rec.pid)
            run_dir = runlog.run_dir(root, rec.run_id)
            events = runlog.read_events(run_dir)
            before = seen[rec.run_id]
            assert events[: len(before)] == before, f"{rec.run_id}: a written event was lost or changed"
            assert [e["step"] for e in events] == list(range(1, len(events) + 1))
            assert len(runlog.read_events_frame(run_dir)) == len(events)
            if (run_dir / "events.parquet").exists():
                assert len(pd.read_parquet(run_dir / "events.parquet")) <= len(events)
        crashed = {r.run_id: r for r in orch.status() if r.run_id in seen}
        assert {r.status for r in crashed.values()} == {"crashed"}, crashed
        for rec in recs:
            assert runlog.read_meta(runlog.run_dir(root, rec.run_id))["status"] == "crashed"
    assert kills >= 20
    assert longest > 14, "some kills should land after compactions"
    assert longest > 35, "some kills should land after a JSONL trim"
    # and a new run starts cleanly afterwards
    rec = orch.start("testnet", profile="quick_smoke", check=False)
    final = orch.wait(rec.run_id, timeout_s=60)
    assert final.status == "completed", final
    assert len(runlog.read_events(runlog.run_dir(root, rec.run_id))) == 30


def test_sigterm_at_random_moments_is_always_graceful(tmp_path):
    root = Root.resolve(make_root(tmp_path / "d", bar_seconds=0.05, compact_every=5))
    orch = Orchestrator(root)
    rng = random.Random(7)
    delays = [0.0, 0.0, *(rng.uniform(0.05, 1.5) for _ in range(4))]  # two stops before the worker is up
    recs = [orch.start("testnet", profile="standard", check=False) for _ in delays]
    for rec, delay in zip(recs, delays, strict=True):
        time.sleep(delay)
        res = orch.stop(rec.run_id, timeout_s=30)
        assert res.outcome == "stopped", (rec.run_id, res)
        run_dir = runlog.run_dir(root, rec.run_id)
        meta = runlog.read_meta(run_dir)
        assert meta["status"] == "stopped" and meta["ended_at"]
        assert "Shutdown complete" in (run_dir / "session.log").read_text()
        events = runlog.read_events(run_dir)
        assert [e["step"] for e in events] == list(range(1, len(events) + 1))
        if events:  # the log was closed: everything is in the Parquet file
            assert list(pd.read_parquet(run_dir / "events.parquet")["step"]) == [e["step"] for e in events]


def test_a_plain_kill_pid_from_the_runbook_is_graceful_too(tmp_path):
    root = Root.resolve(make_root(tmp_path / "d", bar_seconds=0.05))
    orch = Orchestrator(root)
    rec = orch.start("testnet", profile="standard", check=False)
    run_dir = runlog.run_dir(root, rec.run_id)
    end = time.monotonic() + 20
    while orch.registry.get(rec.run_id).status != "running" or runlog.count_events(run_dir) < 2:
        assert time.monotonic() < end, "the run did not start"
        time.sleep(0.02)
    os.kill(rec.pid, signal.SIGTERM)  # runbook 5.2 option B: kill <PID>
    _gone(rec.pid, timeout=30)
    assert orch.registry.get(rec.run_id).status == "stopped"
    assert runlog.read_meta(run_dir)["ended_at"]
    assert "Shutdown complete" in (run_dir / "session.log").read_text()
