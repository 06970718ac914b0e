"""Benchmark: CLI start-up and `peaktrade validate` of the shipped tree (DESIGN 10).

Measures, each in a fresh process (what an operator and CI see):
  * `peaktrade --help` cold start (bar: median <= 150 ms), over >= 20 runs;
  * `peaktrade validate` of the shipped tree (bar: median <= 500 ms), over >= 10 runs;
  * the heavy modules `--help` imports (ccxt, pandas, pyarrow, numpy, jsonschema, jinja2, yaml must
    not be among them).

    .venv/bin/python bench/bench_cli.py [--runs N] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).parent / "peaktrade"
HEAVY = ("ccxt", "pandas", "pyarrow", "numpy", "jsonschema", "jinja2", "yaml")
FORBIDDEN = ("ccxt", "pandas", "pyarrow")


def _time(argv: list[str], runs: int, expect: int = 0) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys) time in ms of ``runs`` fresh processes; each must exit with ``expect``.

    CPU time is reported beside wall time because the shared 2-core machine is often loaded
    (load average 3-7): wall time then measures the queue, CPU time what the command costs.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    subprocess.run(argv, capture_output=True, cwd=REPO, env=env)  # warm the page cache and .pyc files
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, cwd=REPO, env=env)
        wall.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
        if proc.returncode != expect:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall, cpu


def heavy_imports() -> list[str]:
    """Top-level packages from HEAVY that `peaktrade --help` imports."""
    code = ("import sys\nfrom peaktrade.cli import run\ntry:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO).stdout
    loaded = set(out.split("\n")[-2].split()) if out.strip() else set()
    return [m for m in HEAVY if m in loaded]


def _stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median": statistics.median(times), "p99": p99, "min": ordered[0], "runs": len(times)}


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"nproc={os.cpu_count()}, CPU: {cpu}, Python {platform.python_version()}, load avg {os.getloadavg()[0]:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table for bench/figures/cli.md")
    args = ap.parse_args()
    help_wall, help_cpu = _time([str(EXE), "--help"], max(args.runs, 20))
    val_wall, val_cpu = _time([str(EXE), "--root", str(REPO), "validate"], max(args.runs // 2, 10))
    heavy = heavy_imports()
    rows = [
        ("`peaktrade --help` cold start", _stats(help_wall), _stats(help_cpu), 150.0),
        ("`peaktrade validate` (shipped tree)", _stats(val_wall), _stats(val_cpu), 500.0),
    ]
    ok = True
    if args.markdown:
        print("| what | runs | wall median ms | wall p99 ms | wall min ms | CPU median ms | bar | result |")
        print("|---|---|---|---|---|---|---|---|")
    for name, s, c, bar in rows:
        passed = s["median"] <= bar
        ok &= passed
        if args.markdown:
            print(f"| {name} | {s['runs']} | {s['median']:.0f} | {s['p99']:.0f} | {s['min']:.0f} | {c['median']:.0f} | "
                  f"<= {bar:.0f} ms median | {'pass' if passed else 'MISS'} |")
        else:
            print(f"{name}: wall median {s['median']:.0f} ms, p99 {s['p99']:.0f} ms, min {s['min']:.0f} ms; "
                  f"CPU median {c['median']:.0f} ms; over {s['runs']} runs (bar <= {bar:.0f} ms): "
                  f"{'pass' if passed else 'MISS'}")
    bad = [m for m in heavy if m in FORBIDDEN]
    ok &= not bad
    print(f"{'' if not args.markdown else chr(10)}heavy modules imported by --help: {', '.join(heavy) or 'none'}"
          f" ({'FAIL: ' + ', '.join(bad) if bad else 'none of ccxt, pandas, pyarrow'})")
    print(f"machine: {machine()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
