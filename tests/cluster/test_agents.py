"""Agents as separate processes with different host ids, on one PostgreSQL desk state: every queued run is
claimed exactly once and pins are honoured; a second agent for a host is refused; a SIGKILLed agent's runs
become lost (run_crashed raised) and are never restarted. The "sessions" are stand-in processes (a shell
script in place of the worker's interpreter) so that 200 of them fit on a small machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peaktrade.desk.store import RunRecord

FAKE_WORKER = """#!/bin/sh
# stands in for: python -m peaktrade.runtime.worker --run-id ID --root DIR ...
echo "$PEAKTRADE_HOST_ID $4" >> "$LAUNCH_LOG"
exec sleep 300
"""


def _agent(root: Path, host: str, fake: Path, log: Path, *, lost_after: str = "3") -> subprocess.Popen:
    env = {**os.environ, "LAUNCH_LOG": str(log)}
    env.pop("PEAKTRADE_HOST_ID", None)
    return subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(root), "agent", "--host-id", host,
                             "--heartbeat", "0.5", "--lost-after", lost_after, "--python", str(fake)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _launched(log: Path) -> list[tuple[str, str]]:
    if not log.exists():
        return []
    return [tuple(line.split()) for line in log.read_text().splitlines() if line.strip()]  # type: ignore[misc]


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow
def test_three_agents_claim_each_run_once_and_lost_runs_stay_lost(pg_deploy: Path, tmp_path: Path):
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_WORKER)
    fake.chmod(0o755)
    log = tmp_path / "launched.log"
    store = open_desk(Root(pg_deploy))
    pins = {}
    for i in range(200):
        run_id = f"shadow_20260101_000000_{i:06x}"
        store.add_run(RunRecord(run_id, "shadow", "ma_crossover", "BTC/EUR", "1m", "standard",
                                created_at=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"))
        pins[run_id] = "h1" if i % 4 == 0 else "h3" if i % 4 == 1 else ""
        assert store.queue_run(run_id, host=pins[run_id])
    agents = {h: _agent(pg_deploy, h, fake, log) for h in ("h1", "h2", "h3")}
    try:
        _wait(lambda: len(_launched(log)) >= 200, 120, "200 launches")
        time.sleep(1.0)  # nothing more may come
        launched = _launched(log)
        assert len(launched) == 200 and len({r for _, r in launched}) == 200  # each run exactly once
        for host, run_id in launched:
            assert not pins[run_id] or pins[run_id] == host, f"{run_id} pinned to {pins[run_id]} ran on {host}"
            assert store.get_run(run_id).host == host
        by_host = {h: sum(1 for x, _ in launched if x == h) for h in ("h1", "h2", "h3")}
        assert by_host["h2"] > 0 and by_host["h2"] <= 100  # h2 only ever got unpinned runs

        second = _agent(pg_deploy, "h1", fake, log)
        out, _ = second.communicate(timeout=60)
        assert second.returncode != 0 and "another agent already holds host 'h1'" in out

        agents["h2"].send_signal(signal.SIGKILL)
        agents["h2"].wait(10)
        h2_runs = [r for h, r in launched if h == "h2"]
        _wait(lambda: all(store.get_run(r).status == "lost" for r in h2_runs), 30, "h2's runs to become lost")
        assert all("h2 stopped heartbeating" in store.get_run(r).status_note for r in h2_runs)
        assert {a.host_id: a.status for a in store.list_agents()}["h2"] == "lost"
        alert = store.alert(f"run_crashed|{h2_runs[0]}")
        assert alert is not None and alert.status == "firing" and alert.severity == "CRITICAL"
        time.sleep(2.0)  # the other agents keep ticking: nothing is relaunched
        assert len(_launched(log)) == 200
    finally:
        for proc in agents.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in agents.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for rec in store.list_runs():
            if rec.pid:
                try:
                    os.kill(rec.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    assert {a.status for a in store.list_agents() if a.host_id != "h2"} == {"stopped"}
