"""Benchmark: the dashboard over 1,000 runs (bars: the runs page <= 150 ms, /metrics <= 200 ms).

Fixture (generated once with pyarrow into a temporary deployment root, or --dir to keep/reuse it):
1,000 runs x 1,000 events (Parquet plus a 10-event JSONL tail, as ``bench_monitor.py`` builds them),
half of them active, every one registered in the desk state; 20 plays with journals; 5 alerts.

Measured in process through Starlette's test client (routing, middleware, template, response body),
after one warm-up request (the monitor's summary cache is then valid, as on a running server):

- ``GET /runs`` (full page: banner + 1,000 rows), ``GET /runs`` as an htmx poll (content only)
- ``GET /metrics`` (prometheus_client text for 1,000 runs; blocked orders summed for the active ones)
- ``GET /runs/<id>`` (one run: 1,000-point equity and drawdown charts, last events)
- with ``--other-host-runs``: ``GET /runs/<id>`` of a closed run of host a (100 events, from its copy)

    .venv/bin/python bench/bench_web.py [--runs 1000] [--events 1000] [--repeat 21] [--dir DIR]

``--other-host-runs N``: the same desk on several hosts (issue 13): the desk state in PostgreSQL on loopback
(``tests/cluster/pgserver.py``) and object storage on moto's S3 server; the fixture's runs are this host's
(b), and host a has N runs in the desk state, half of them active (no figures here), half closed with their
copies in the bucket (figures from the verified copies, fetched on the warm-up request).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

BARS = {"runs page": 0.150, "runs poll": 0.150, "metrics": 0.200}


def build(root: Path, runs: int, events: int) -> None:
    from bench_monitor import build as build_runs

    from peaktrade.desk import open_desk
    from peaktrade.desk.store import AlertRow, RunRecord
    from peaktrade.playbook.journal import Journal
    from peaktrade.root import Root

    build_runs(root, runs, events)
    store = open_desk(Root(root))
    for i, d in enumerate(sorted((root / "live_runs").iterdir())):
        store.add_run(RunRecord(run_id=d.name, mode="shadow", strategy="ma_crossover", symbol="BTC/EUR",
                                timeframe="1m", profile="standard", status="completed" if i % 2 == 0 else "running"))
    for i in range(5):
        store.put_alert(AlertRow(key=f"no_events|r{i}", rule="no_events", run_id=f"r{i}", severity="WARNING",
                                 status="firing", message="silent", playbook="incident-data-feed",
                                 first_fired="2026-01-01T00:00:00Z", last_notified=None))
    for i in range(20):
        j = Journal(root / "var" / "plays" / f"20260101-0000{i:02d}-abcdef" / "journal.jsonl")
        j.append("play_started", playbook="health-check", operator="bench", plan=[], params={})
        j.append("play_finished", outcome="succeeded")
        j.close()


def other_host(root: Path, n: int, stack: Any) -> None:
    """Put ``root`` (host b) on a PostgreSQL desk with an S3 bucket, and give host a ``n`` runs there."""
    import shutil
    import subprocess
    import urllib.request
    from datetime import datetime

    import boto3

    sys.path.insert(0, str(BENCH.parent / "tests" / "cluster"))
    from pgserver import PgServer, find_problem, free_port, use_postgres

    from peaktrade.artifacts import s3
    from peaktrade.desk import open_desk
    from peaktrade.desk.postgres import PostgresDesk
    from peaktrade.desk.store import RunRecord
    from peaktrade.monitor.synthetic import make_events, write_run
    from peaktrade.root import Root

    problem = find_problem()
    if problem:
        raise SystemExit(f"--other-host-runs needs PostgreSQL: {problem}")
    server = PgServer()
    server.start()
    stack.callback(server.destroy)
    url = server.create_db("bench_web")
    PostgresDesk(url).migrate(at="2026-01-01T00:00:00Z")
    port = free_port()
    moto = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(moto.terminate)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench")
    use_postgres(root, url)
    with open(root / "config" / "config.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[artifacts]\nurl = "s3://bench/desk"\nendpoint_url = "{endpoint}"\nregion = "us-east-1"\n')
    os.environ["PEAKTRADE_HOST_ID"] = "b"
    a = root.parent / (root.name + "-host-a")
    shutil.copytree(root / "config", a / "config")
    store, target = open_desk(Root(root)), s3.configured(Root(root))
    for i, d in enumerate(sorted((root / "live_runs").iterdir())):
        store.add_run(RunRecord(run_id=d.name, mode="shadow", strategy="ma_crossover", symbol="BTC/EUR",
                                timeframe="1m", profile="standard", host="b",
                                status="completed" if i % 2 == 0 else "running"))
    start = "2026-01-02T00:00:00Z"
    for i in range(n):
        run_id = f"shadow_20260102_{i:06d}_aaaaaa"
        closed = i % 2 == 0
        store.add_run(RunRecord(run_id=run_id, mode="shadow", strategy="ma_crossover", symbol="BTC/EUR",
                                timeframe="1m", profile="standard", host="a", started_at=start,
                                status="completed" if closed else "running"))
        if closed:
            events = make_events(100, start=datetime(2026, 1, 2))
            write_run(a / "live_runs", run_id, events, meta={"status": "completed"}, parquet_upto=100)
            s3.upload_run(Root(a), target, store, run_id, host="a")


def measure(client, path: str, repeat: int, headers: dict | None = None) -> tuple[list[float], list[float]]:
    """Wall time and CPU time (this process: client and server threads) per request. On a shared machine
    the wall time includes waiting for a core; the CPU time is what the request itself costs."""
    client.get(path, headers=headers)  # warm-up: summary cache, template compilation
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        r = client.get(path, headers=headers)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        assert r.status_code == 200, (path, r.status_code)
    return wall, cpu


def line(name: str, xs: list[float], bar: float | None) -> str:
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    med = statistics.median(xs)
    verdict = "" if bar is None else f", bar <= {bar * 1000:.0f} ms: {'pass' if med <= bar else 'MISS'}"
    return f"{name}: median {med * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, n={len(xs)}{verdict}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--other-host-runs", type=int, default=0, help="a desk on several hosts (see above)")
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from peaktrade.root import Root
    from peaktrade.web.app import create_app

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory()
        args.dir = Path(tmp.name)
    root = args.dir
    if not (root / "live_runs").is_dir():
        t = time.perf_counter()
        build(root, args.runs, args.events)
        print(f"fixture: {args.runs} runs x {args.events} events in {time.perf_counter() - t:.0f} s")
    one = sorted((root / "live_runs").iterdir())[-1].name
    missed = 0
    stack = contextlib.ExitStack()
    if args.other_host_runs:
        t = time.perf_counter()
        other_host(root, args.other_host_runs, stack)
        print(f"desk on two hosts: {args.other_host_runs} runs of host a (half closed, copied) in "
              f"{time.perf_counter() - t:.0f} s")
    with stack, TestClient(create_app(Root(root)), base_url="http://127.0.0.1:8765") as client:
        t = time.perf_counter()
        html = client.get("/runs").text
        print(f"first /runs (cold: summaries{', copies fetched' if args.other_host_runs else ''}): "
              f"{time.perf_counter() - t:.1f} s")
        assert html.count("data-run-id=") == args.runs + args.other_host_runs, html.count("data-run-id=")
        assert "copy not verified" not in html
        results = {
            "runs page": measure(client, "/runs", args.repeat),
            "runs poll": measure(client, "/runs", args.repeat, {"HX-Request": "true"}),
            "metrics": measure(client, "/metrics", args.repeat),
            "one run": measure(client, f"/runs/{one}", args.repeat),
        }
        if args.other_host_runs:  # read from its verified copy (hashes checked against the desk state)
            results["host a's run"] = measure(client, "/runs/shadow_20260102_000000_aaaaaa", args.repeat)
        size = len(client.get("/metrics").content)
    for name, (wall, cpu) in results.items():
        print(line(f"{name} (wall)", wall, BARS.get(name)) + f"; CPU median {statistics.median(cpu) * 1000:.1f} ms")
        missed += BARS.get(name) is not None and statistics.median(wall) > BARS[name]
    print(f"/metrics body: {size:,} bytes; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}")
    if tmp:
        tmp.cleanup()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
