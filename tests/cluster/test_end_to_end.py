"""End to end on a desk on several hosts, with the real worker: a run started from one host's CLI is
claimed by another host's agent, runs there as a real session (quick_smoke profile, offline exchange),
ends completed; its run log is copied to S3 with its hashes in the desk state and is readable from a
third host."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_agents import _wait
from test_artifacts import _bucket, _configure

from peaktrade.cli import run


@pytest.mark.slow
def test_real_session_through_an_agent_and_object_storage(pg_deploy: Path, s3_server: str, tmp_path: Path, capsys):
    from peaktrade.artifacts import s3
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    _bucket(s3_server, "desk-e2e")
    _configure(pg_deploy, s3_server, "desk-e2e")
    host_b = tmp_path / "host-b"  # the agent's host: its own deployment root (same config)
    shutil.copytree(pg_deploy, host_b, ignore=shutil.ignore_patterns("var", "live_runs", "logs"))
    capsys.readouterr()
    assert run(["--root", str(pg_deploy), "runs", "start-testnet", "--profile", "quick_smoke", "--host", "b",
                "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    env = {k: v for k, v in os.environ.items() if k != "PEAKTRADE_HOST_ID"}
    agent = subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(host_b), "agent", "--host-id", "b",
                              "--heartbeat", "0.5", "--lost-after", "5"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    store = open_desk(Root(pg_deploy))
    try:
        _wait(lambda: store.get_run(run_id).status not in ("starting", "running", "stopping"), 120,
              "the session to end")
        assert store.get_run(run_id).status == "completed", store.get_run(run_id).status_note
        assert store.get_run(run_id).host == "b"
        assert (host_b / "live_runs" / run_id / "events.parquet").is_file()  # the log stays on its host
        _wait(lambda: len(store.list_artifacts(run_id)) >= 2, 60, "the run log's copy")
    finally:
        agent.send_signal(signal.SIGTERM)
        out, _ = agent.communicate(timeout=30)
    assert "claimed" in out and "copied to s3://desk-e2e/desk1/" in out
    host_c = tmp_path / "host-c"  # a third host reads the verified copy
    shutil.copytree(pg_deploy / "config", host_c / "config")
    copy = s3.run_dir_anywhere(Root(host_c), store, run_id)
    import pyarrow.parquet as pq

    assert pq.read_table(copy / "events.parquet").num_rows == pq.read_table(
        host_b / "live_runs" / run_id / "events.parquet").num_rows
    # the monitor of the third host reads that copy too (a run of another host: from object storage)
    from peaktrade.monitor.runs import run_dir

    (host_c / "var").mkdir(exist_ok=True)
    assert run_dir(Root(host_c), run_id) == copy
