"""Benchmark: `monitor overview` over 1,000 runs x 10,000 events (bar: <= 1 s).

Fixture (generated once with pyarrow into a temporary deployment root, or --dir to keep/reuse it):
each run has meta.json, events.parquet with 9,990 compacted events and events.jsonl with the
10 newest ones; half the runs are active. Measured, in process and as a fresh CLI process:

- cold: no summary cache (first overview after install, or after the cache was deleted)
- warm: cache valid, nothing changed (the normal repeated overview)
- warm + appends: 10 % of the runs got 10 new JSONL events since the last overview

    .venv/bin/python bench/bench_monitor.py [--runs 1000] [--events 10000] [--dir DIR]

With --dir the fixture is kept and reused; note that the "grew" measurement appends events to it,
so a reused fixture has longer JSONL tails each time (the figures use a fresh temp dir).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TAIL = 10


def build(root: Path, runs: int, events: int) -> None:
    import numpy as np

    from peaktrade.monitor.synthetic import make_events, write_parquet_columns, write_run

    for name in ("config", "policies", "schemas", "playbooks"):
        if (REPO / name).is_dir() and not (root / name).exists():
            shutil.copytree(REPO / name, root / name)
    rng = np.random.default_rng(1)
    base = datetime(2025, 12, 1, tzinfo=UTC)
    for i in range(runs):
        start = base + timedelta(minutes=7 * i)
        run_id = f"shadow_{start:%Y%m%d_%H%M%S}_{i:06x}"
        n = events - TAIL
        equity = 10_000 + np.cumsum(rng.normal(0, 2, events))
        tail = make_events(TAIL, start=start + timedelta(seconds=n), every_s=1.0, first_step=n,
                           equity=equity[n:])
        meta = {} if i % 2 else {"ended_at": (start + timedelta(seconds=events)).isoformat()}
        d = write_run(root / "live_runs", run_id, tail, meta={**meta, "started_at": start.isoformat()})
        write_parquet_columns(d / "events.parquet", n, start_ns=int(start.timestamp()) * 10**9, every_ns=10**9,
                              equity=equity[:n])


def append_some(root: Path, fraction: float) -> int:
    dirs = sorted((root / "live_runs").iterdir())
    touched = dirs[:: int(1 / fraction)]
    for d in touched:
        lines = (d / "events.jsonl").read_text().splitlines()
        last = json.loads(lines[-1])
        with open(d / "events.jsonl", "a") as fh:
            for k in range(1, 11):
                fh.write(json.dumps({**last, "step": last["step"] + k, "equity": last["equity"] - k}) + "\n")
    return len(touched)


def stats(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    return f"{name}: median {statistics.median(xs) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, n={len(xs)}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    from peaktrade.monitor.views import overview
    from peaktrade.root import Root

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory()
        args.dir = Path(tmp.name)
    root = args.dir
    if not (root / "live_runs").is_dir():
        t = time.perf_counter()
        build(root, args.runs, args.events)
        print(f"fixture: {args.runs} runs x {args.events} events in {time.perf_counter() - t:.0f} s")
    cache = root / "var" / "cache" / "monitor-summaries.json"
    cold, warm, grown, cli_warm, cli_cold = [], [], [], [], []
    for _ in range(max(3, args.repeat // 2)):
        cache.unlink(missing_ok=True)
        t = time.perf_counter()
        rows = overview(Root(root), include_inactive=True)
        cold.append(time.perf_counter() - t)
    assert len(rows) == args.runs and rows[0]["events"] == args.events, (len(rows), rows[0]["events"])
    for _ in range(args.repeat):
        t = time.perf_counter()
        overview(Root(root), include_inactive=True)
        warm.append(time.perf_counter() - t)
    for _ in range(args.repeat):
        n = append_some(root, 0.1)
        t = time.perf_counter()
        overview(Root(root), include_inactive=True)
        grown.append(time.perf_counter() - t)
    cmd = [str(REPO / ".venv/bin/peaktrade"), "--root", str(root), "monitor", "overview", "--include-inactive",
           "--json"]
    for bucket, drop in ((cli_warm, False), (cli_cold, True)):
        for _ in range(max(3, args.repeat // 2)):
            if drop:
                cache.unlink(missing_ok=True)
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            bucket.append(time.perf_counter() - t)
            assert proc.returncode == 0, proc.stderr
    print(stats("in-process, cold (no cache)", cold))
    print(stats("in-process, warm (cache valid)", warm))
    print(stats(f"in-process, warm, {n} runs grew by 10 events", grown))
    print(stats("CLI fresh process, warm", cli_warm))
    print(stats("CLI fresh process, cold", cli_cold))
    print(f"bar: <= 1000 ms; python {sys.version.split()[0]}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
