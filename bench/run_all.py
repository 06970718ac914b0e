"""Run every benchmark, one after the other, then assemble docs/benchmarks.md.

    .venv/bin/python bench/run_all.py               # all benchmarks (several minutes), then assemble
    .venv/bin/python bench/run_all.py --only risk   # the benchmarks whose file name contains "risk"
    .venv/bin/python bench/run_all.py --assemble    # only rebuild docs/benchmarks.md from bench/figures/*.md

Each benchmark prints its figures; the reviewed figures of record live in bench/figures/<area>.md
(with the machine and the load they were measured under) and are assembled into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
ORDER = ["cli", "interpreter", "risk", "runlog", "session", "exchange", "alerts", "monitor", "web", "gateway",
         "desk_risk", "killswitch", "cluster"]
FIGURES = ["cli", "interpreter", "risk", "runtime", "exchange", "monitor-alerts", "web", "gateway", "cluster"]

HEADER = """# Benchmarks

The quality bars of DESIGN 10, measured by the scripts in `bench/` (run them all with
`.venv/bin/python bench/run_all.py`). Figures are from the 2-core development machine (AMD EPYC,
Python 3.11.7) while other work shared it; each section names its command, the load and the bar.
Timing assertions do not belong in tests: these scripts are where the bars are checked.

| bar (DESIGN 10) | section |
|---|---|
| `peaktrade --help` cold start ≤ 150 ms median; `peaktrade validate` ≤ 500 ms | CLI start-up |
| interpreter overhead per step, journal fsynced, ≤ 2 ms median | Interpreter |
| pre-trade risk check ≥ 300,000 checks/s, p99 ≤ 20 µs | Risk engine |
| run-log append ≥ 100,000 events/s; no acknowledged event lost on SIGKILL | Run logs and sessions |
| `monitor overview`, 1,000 runs × 10,000 events ≤ 1 s; `alerts run-rules`, 1,000,000 events ≤ 0.5 s \
| Monitor and alerts |
| dashboard: a page with 1,000 runs ≤ 150 ms, `/metrics` ≤ 200 ms (DESIGN 12) | Dashboard |
| gateway overhead per order, durable intent included, ≤ 1 ms median; desk-wide risk decision \
≥ 300,000 checks/s, p99 ≤ 20 µs; kill switch engage → every running session blocks its next order ≤ 1 s \
| Order gateway, desk risk, kill switch |
| a desk on several hosts: claim latency, kill-switch propagation across hosts, reservations/s from 50 \
sessions (issue 13; no bar) | A desk on several hosts |

"""


def assemble() -> Path:
    parts = [HEADER]
    for name in FIGURES:
        f = BENCH / "figures" / f"{name}.md"
        if f.is_file():
            text = f.read_text(encoding="utf-8").strip()
            # demote the figure file's headings by one level under the page title
            text = "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())
            parts.append(text + "\n")
    out = REPO / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only benchmarks whose file name contains this")
    ap.add_argument("--assemble", action="store_true", help="only rebuild docs/benchmarks.md")
    args = ap.parse_args()
    if not args.assemble:
        failed = []
        for name in ORDER:
            script = BENCH / f"bench_{name}.py"
            if not script.is_file() or (args.only and args.only not in name):
                continue
            print(f"\n===== {script.name} =====", flush=True)
            t0 = time.perf_counter()
            rc = subprocess.call([sys.executable, str(script)], cwd=REPO)
            print(f"===== {script.name}: exit {rc} in {time.perf_counter() - t0:.1f} s =====", flush=True)
            if rc:
                failed.append(script.name)
        if failed:
            print(f"benchmarks that exited non-zero (a missed bar or an error): {', '.join(failed)}")
    print(f"assembled {assemble().relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
