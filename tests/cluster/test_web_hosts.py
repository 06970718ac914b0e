"""The dashboard of a desk on several hosts (issue 12 on issue 13's desk): the runs table lists the runs of every
host with their host, as ``monitor overview`` does.

Two deployment roots are two hosts (``PEAKTRADE_HOST_ID`` a and b) sharing one PostgreSQL desk and one bucket
(moto on loopback), as in ``test_artifact_readers``. Host a has a closed run copied to object storage, a closed
run whose copy was changed in the bucket, and an active run; host b has a run of its own. A real ``peaktrade
serve`` of host b (uvicorn on a free loopback port) lists them all: host a's closed run with its figures from
the verified copy (and its run page read from it), the changed copy with an error marker and no figure, the
active run with where it runs and no figure.
"""

from __future__ import annotations

import html as htmllib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_artifacts import _bucket, _configure

from peaktrade.desk.store import RunRecord

pytestmark = pytest.mark.slow
pytest.importorskip("starlette", reason="the dashboard needs the web extra: pip install -e '.[web]'")

CLOSED, CHANGED, ACTIVE, MINE, LOST = ("shadow_20260101_000001_aaaaaa", "shadow_20260101_000002_bbbbbb",
                                       "shadow_20260101_000003_cccccc", "shadow_20260101_000004_dddddd",
                                       "shadow_20260101_000005_eeeeee")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _row(page: str, run_id: str) -> list[str]:
    """The text of each cell of the run's row in the runs table."""
    body = page.split(f'data-run-id="{run_id}"')[1].split("</tr>")[0]
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]


def _record(run_id: str, host: str, status: str) -> RunRecord:
    return RunRecord(run_id, "shadow", "ma_crossover", "BTC/EUR", "1m", "standard", status=status, host=host,
                     created_at="2026-01-01T00:00:00Z", started_at="2026-01-01T00:00:00Z")


@pytest.fixture
def hosts(pg_deploy: Path, s3_server: str, tmp_path: Path):
    """(host a's root, host b's root, bucket): host a's runs in the desk state and its closed ones copied."""
    import boto3

    from peaktrade.artifacts import s3
    from peaktrade.desk import open_desk
    from peaktrade.monitor.synthetic import make_events, write_run
    from peaktrade.root import Root

    a = pg_deploy
    bucket = f"web-{uuid.uuid4().hex[:10]}"
    _bucket(s3_server, bucket)
    _configure(a, s3_server, bucket)
    b = tmp_path / "host-b"
    shutil.copytree(a, b, ignore=shutil.ignore_patterns("var", "live_runs", "logs", "reports"))
    (b / "live_runs").mkdir()
    store, target = open_desk(Root(a)), s3.configured(Root(a))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    for run_id, n in ((CLOSED, 30), (CHANGED, 10)):
        events = make_events(n, start=start, equity=[10_000 + 3 * i for i in range(n)])
        write_run(a / "live_runs", run_id, events, meta={"status": "completed", "ended_at": events[-1]["ts_event"]},
                  parquet_upto=n)
        store.add_run(_record(run_id, "a", "completed"))
        s3.upload_run(Root(a), target, store, run_id, host="a")
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").put_object(
        Bucket=bucket, Key=f"desk1/runs/{CHANGED}/events.parquet", Body=b"not the run log")
    store.add_run(_record(ACTIVE, "a", "running"))
    store.add_run(_record(LOST, "a", "lost"))  # lost with its host: no copy
    write_run(b / "live_runs", MINE, make_events(5, start=start), meta={"status": "running"})
    store.add_run(_record(MINE, "b", "running"))
    return a, b, bucket


@pytest.fixture
def dashboard_of_b(hosts):
    """``peaktrade serve`` of host b, a real HTTP server on a free loopback port; its base URL."""
    _, b, _ = hosts
    port = _free_port()
    env = {**os.environ, "PEAKTRADE_HOST_ID": "b", "PEAKTRADE_WEB_TOKEN": ""}
    server = subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(b), "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 60
        while _get_or_none(url + "/runs") is None:
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < end, "the dashboard did not answer in 60 s"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)[0]
    except OSError:
        return None


def test_host_b_dashboard_lists_host_a_runs_with_their_host(hosts, dashboard_of_b):
    a, b, bucket = hosts
    url = dashboard_of_b
    status, page = _get(url + "/runs")
    assert status == 200
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", page, re.S).group(1)
    assert re.findall(r"<th>(\w+)</th>", head)[:3] == ["Run", "Host", "Status"]
    assert page.count("data-run-id=") == 5

    # host a's closed run: host "a", its figures from the verified copy (30 events, last equity 10,087)
    closed = _row(page, CLOSED)
    assert closed[1] == "a" and closed[2].startswith("completed")
    assert closed[7:10] == ["30", closed[8], "10,087.00"] and closed[8] != "-"
    assert (b / "var" / "artifacts" / CLOSED / "events.parquet").is_file()
    assert not (b / "live_runs" / CLOSED).exists()

    # a copy that differs from its recorded hash: an error marker, never a figure
    changed = _row(page, CHANGED)
    assert changed[1] == "a" and "copy not verified" in changed[2]
    assert f"s3://{bucket}/desk1/runs/{CHANGED}/events.parquet: its SHA-256 differs" in changed[2]
    assert changed[7:] == ["-"] * 5

    # host a's active run: where it runs, no figure
    active = _row(page, ACTIVE)
    assert active[1] == "a" and active[2].startswith("running") and "runs on host a" in active[2]
    assert active[7:] == ["-"] * 5

    mine = _row(page, MINE)  # host b's own run, with its figures
    assert mine[1] == "b" and mine[7] == "5" and "runs on host" not in mine[2]

    # host a's lost run: no copy, no figure, needs attention until acknowledged on any host (the desk state)
    lost = _row(page, LOST)
    assert lost[1] == "a" and lost[2].startswith("lost") and "needs attention" in lost[2]
    assert "no copy in object storage" in lost[2] and lost[7:] == ["-"] * 5

    # the run page of host a's closed run is read from the same verified copy
    status, run_page = _get(url + f"/runs/{CLOSED}")
    assert status == 200, run_page
    assert re.search(r'<dd id="run-events">30</dd>', run_page) and "10,087.00" in run_page
    # host a's active run: its log is on host a; the page says so (the reader's one line), no figure
    status, run_page = _get(url + f"/runs/{ACTIVE}")
    assert status == 404 and f"run {ACTIVE} is running on host a" in run_page and 'id="run-events"' not in run_page
    status, run_page = _get(url + f"/runs/{CHANGED}")
    assert status == 404 and "its SHA-256 differs" in run_page and 'id="run-events"' not in run_page

    # /metrics: host b exports its own active run only (host a's dashboard exports host a's)
    status, metrics = _get(url + "/metrics")
    assert status == 200
    assert f'peaktrade_run_events_total{{run_id="{MINE}"}}' in metrics and ACTIVE not in metrics
    assert 'peaktrade_runs{status="running"} 2.0' in metrics and 'peaktrade_runs{status="completed"} 2.0' in metrics


def test_a_lost_run_acknowledged_on_another_host_stops_needing_attention(hosts, dashboard_of_b):
    """``runs ack`` on host a keeps the acknowledgement in the desk state; host b's page sees it (the dashboard
    asks the desk state again at most every few seconds per unacknowledged run)."""
    from peaktrade.monitor.crashed import acknowledge
    from peaktrade.root import Root

    a, _, _ = hosts
    assert "needs attention" in _row(_get(dashboard_of_b + "/runs")[1], LOST)[2]
    acknowledge(Root(a), LOST, by="alice", note="host a was decommissioned", at="2026-01-01T01:00:00Z")
    end = time.monotonic() + 30
    while "needs attention" in _row(_get(dashboard_of_b + "/runs")[1], LOST)[2]:
        assert time.monotonic() < end, "host b's dashboard still flags the acknowledged run after 30 s"
        time.sleep(0.5)
