"""`runs stop --all` from a host without runs acts desk-wide through the agents: one stop request per
run, each agent signals its own processes, the report names each run's host."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_agents import _wait

from peaktrade.desk.store import RunRecord


@pytest.mark.slow
def test_stop_all_from_another_host_goes_through_the_agents(pg_deploy: Path, tmp_path: Path):
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    wrapper = tmp_path / "fake-python"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).with_name('fakeworker.py')} \"$@\"\n")
    wrapper.chmod(0o755)
    store = open_desk(Root(pg_deploy))
    runs = {f"shadow_20260101_00000{i}_00000{i}": "h1" if i < 2 else "h2" for i in range(4)}
    for run_id, host in runs.items():
        store.add_run(RunRecord(run_id, "shadow", "ma", "BTC/EUR", "1m", "standard",
                                created_at=f"2026-01-01T{run_id}"))
        store.queue_run(run_id, host=host)
    env = {k: v for k, v in os.environ.items() if k != "PEAKTRADE_HOST_ID"}
    agents = [subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(pg_deploy), "agent", "--host-id", h,
                                "--heartbeat", "0.3", "--lost-after", "5", "--python", str(wrapper)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) for h in ("h1", "h2")]
    try:
        _wait(lambda: all(store.get_run(r).status == "running" for r in runs), 60, "every run to run")
        done = subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(pg_deploy), "runs", "stop", "--all",
                               "--timeout", "30", "--json"], env={**env, "PEAKTRADE_HOST_ID": "ops-host"},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        results = {r["run_id"]: r for r in json.loads(done.stdout)}
        assert {r: (v["outcome"], v["host"]) for r, v in results.items()} == {r: ("stopped", h)
                                                                             for r, h in runs.items()}
        assert all(store.get_run(r).status_note == "stopped by SIGTERM" for r in runs)
    finally:
        for proc in agents:
            proc.send_signal(signal.SIGTERM)
        for proc in agents:
            proc.wait(20)


def test_emergency_kill_never_signals_a_local_pid_of_another_hosts_run(pg_deploy: Path):
    from peaktrade.desk import open_desk
    from peaktrade.root import Root
    from peaktrade.runtime.orchestrator import Orchestrator
    from peaktrade.runtime.procinfo import start_time

    bystander = subprocess.Popen(["sleep", "60"])  # same pid number here as the remote run's there
    try:
        store = open_desk(Root(pg_deploy))
        run_id = "shadow_20260101_000009_000009"
        store.add_run(RunRecord(run_id, "shadow", "ma", "BTC/EUR", "1m", "standard", status="running",
                                pid=bystander.pid, pid_start=start_time(bystander.pid),
                                created_at="2026-01-01T00:00:09Z", host="h9"))
        report = Orchestrator(Root(pg_deploy), host="ops").kill_all()
        assert [(r.run_id, r.outcome, r.host) for r in report.results] == [(run_id, "stop requested", "h9")]
        assert bystander.poll() is None  # not signalled from here
        assert store.get_run(run_id).status == "stopping"  # h9's agent signals it
    finally:
        bystander.kill()
        bystander.wait()
