"""Benchmark: `alerts run-rules` over a 1,000,000-event run (bar: <= 0.5 s).

Generates one run (Parquet, written column-wise with pyarrow, plus a 100-event JSONL tail) in a
temporary deployment root, then measures (a) the in-process evaluation of all three rules and
(b) the whole CLI command in a fresh process (`peaktrade alerts run-rules --no-notify --json`).

    .venv/bin/python bench/bench_alerts.py [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUN = "shadow_20251207_120000_abc123"


def build(root: Path, n: int) -> None:
    import numpy as np

    from peaktrade.monitor.synthetic import make_events, write_parquet_columns, write_run

    for name in ("config", "policies", "schemas", "playbooks"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name)
    start_ns = int(datetime(2025, 12, 7, tzinfo=UTC).timestamp()) * 1_000_000_000
    tail = 100
    run_dir = write_run(root / "live_runs", RUN,
                        make_events(tail, start=datetime.fromtimestamp((start_ns // 10**9) + n - tail, UTC),
                                    every_s=1.0, first_step=n - tail))
    rng = np.random.default_rng(7)
    equity = 10_000 + np.cumsum(rng.normal(0, 0.5, n - tail))
    rejected = (rng.random(n - tail) < 0.001).astype(np.int64)
    write_parquet_columns(run_dir / "events.parquet", n - tail, start_ns=start_ns, every_ns=10**9,
                          equity=equity, rejected=rejected, error_every=5000)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    from peaktrade.alerts.engine import evaluate
    from peaktrade.alerts.policy import RuleSettings
    from peaktrade.root import Root

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        build(root, args.events)
        print(f"fixture: {args.events:,} events in {time.perf_counter() - t:.1f} s")
        settings = RuleSettings(pnl_drop_threshold_pct=5.0, no_events_max_minutes=10, error_spike_max_errors=5)
        now = (int(datetime(2025, 12, 7, tzinfo=UTC).timestamp()) + args.events + 1500) * 1_000_000_000
        inproc = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            report = evaluate(Root(root), RUN, settings, now)
            inproc.append(time.perf_counter() - t)
        assert report.events == args.events, report.events
        cli = []
        cmd = [str(REPO / ".venv/bin/peaktrade"), "--root", str(root), "alerts", "run-rules", "--run-id", RUN,
               "--no-notify", "--json", "--now", "2025-12-19T13:46:40Z"]
        for _ in range(max(5, args.repeat // 2)):
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            cli.append(time.perf_counter() - t)
            assert proc.returncode in (0, 1), proc.stderr
        for name, xs in (("in-process evaluate (3 rules)", inproc), ("CLI, fresh process", cli)):
            xs.sort()
            p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
            print(f"{name}: median {statistics.median(xs) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
                  f"{args.events / statistics.median(xs) / 1e6:.1f} M events/s, n={len(xs)}")
        print(f"alerts fired: {[(a.rule, a.level) for a in report.alerts]}")
        print(f"bar: <= 500 ms; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
