"""Gateway overhead per order, durable intent included (DESIGN 10 bar: <= 1 ms median).

One ``Gateway`` (account ``paper``, a ``PaperVenue``) on the desk state of a fresh ``peaktrade init`` root:
every ``submit`` reads the kill switch, reserves (risk decision on the desk ledger + the intent, one
``BEGIN IMMEDIATE`` transaction) and books the paper fill into the ledger (a second transaction). The
store runs WAL with ``synchronous = FULL`` as shipped, so each commit waits for an fsync of the WAL.
The baseline is the bare paper fill (``PaperVenue.place``) of the same orders; overhead = the difference.

Orders alternate buy/sell of 0.001 BTC/EUR (60 EUR) on a ledger that also holds three other symbols,
under all six limits (generous enough that every order passes, so every order takes the whole road).

Variants (each in its own fresh root):
  disk       the desk root on the checkout's own filesystem (the default: where a desk lives)
  tmpfs      the same on /dev/shm (fsync is free: what the road costs without the disk)
  disk-normal the disk root with ``PRAGMA synchronous = NORMAL`` set on the store's connection by this
             script (an experiment to show the fsync share; the product keeps FULL)
Also measured: a bare 4 KiB write + fsync on the same filesystem (the disk's floor per commit).

    python bench/bench_gateway.py [--n 1000] [--variants disk,tmpfs,disk-normal] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peaktrade.desk import open_desk, reset_cache
from peaktrade.gateway import Gateway, OrderRequest
from peaktrade.gateway.venues import PaperVenue
from peaktrade.policy.limits import RiskLimits
from peaktrade.root import Root

REPO = Path(__file__).resolve().parent.parent
LIMITS = RiskLimits(stage="shadow", max_order_notional=1_000.0, max_symbol_exposure=5_000.0,
                    max_total_exposure=8_000.0, max_open_positions=5, max_daily_loss_abs=5_000.0,
                    max_daily_loss_pct=50.0)
OTHERS = [("ETH/EUR", 0.2, 3_000.0), ("SOL/EUR", 3.0, 150.0), ("XRP/EUR", 400.0, 0.5)]


def fresh_root(base: Path) -> Root:
    target = base / "desk"
    out = subprocess.run([sys.executable, "-m", "peaktrade", "init", str(target)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"peaktrade init failed: {out.stderr.strip()}")
    return Root.resolve(target)


def pct(values: list[int], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] / 1000.0


def summary(ns: list[int]) -> tuple[float, float, float]:
    ns = sorted(ns)
    return statistics.median(ns) / 1000.0, pct(ns, 0.99), ns[0] / 1000.0  # µs


def bare_fills(n: int) -> list[int]:
    venue, clock, out = PaperVenue(0.0026, 5.0), time.perf_counter_ns, []
    for i in range(n):
        t0 = clock()
        venue.place("BTC/EUR", "buy" if i % 2 == 0 else "sell", "market", 0.001, None,
                    client_order_id=f"pt{i:016x}", mark=60_000.0 + (i & 63))
        out.append(clock() - t0)
    return out


def gateway_orders(base: Path, n: int, *, synchronous: str | None = None) -> tuple[list[int], int, dict]:
    reset_cache()  # a fresh store for each variant (the cache is per process)
    root = fresh_root(base)
    gw = Gateway(root, account="paper", venue=PaperVenue(0.0026, 5.0), limits=LIMITS, starting_cash=10_000.0)
    if synchronous:
        open_desk(root)._con.execute(f"PRAGMA synchronous = {synchronous}")  # type: ignore[attr-defined]
    for sym, qty, mark in OTHERS:  # a ledger of a few positions
        out = gw.submit(OrderRequest(sym, "buy", qty, mark, "bench_setup", sym))
        assert out.status == "filled", out.reasons
    clock, times, filled = time.perf_counter_ns, [], 0
    for i in range(n + 50):  # the first 50 warm the caches and are not counted
        req = OrderRequest("BTC/EUR", "buy" if i % 2 == 0 else "sell", 0.001, 60_000.0 + (i & 63),
                           "shadow_20261204_120000_bench0", f"bar-{i}")
        t0 = clock()
        out = gw.submit(req)
        dt = clock() - t0
        if out.status != "filled":
            raise SystemExit(f"order {i} not filled: {out.status} {out.reasons}")
        if i >= 50:
            times.append(dt)
            filled += 1
    return times, filled, statements_per_order(root, gw)


def statements_per_order(root: Root, gw: Gateway, n: int = 200) -> dict[str, float]:
    """SQL statements per order, by kind (SQLite's trace callback on the store's connection, after the timing)."""
    counts: dict[str, int] = {}

    def trace(sql: str) -> None:
        words = sql.split()
        kind = words[0].upper() + (f" {words[1]}" if words[0].upper() == "PRAGMA" else "")
        counts[kind] = counts.get(kind, 0) + 1

    con = open_desk(root)._con  # type: ignore[attr-defined]
    con.set_trace_callback(trace)
    try:
        for i in range(n):
            gw.submit(OrderRequest("BTC/EUR", "buy" if i % 2 == 0 else "sell", 0.001, 60_000.0,
                                   "shadow_20261204_120000_trace0", f"bar-{i}"))
    finally:
        con.set_trace_callback(None)
    return {k: v / n for k, v in sorted(counts.items())}


def fsync_floor(base: Path, n: int = 300) -> list[int]:
    path, clock, out = base / "fsync.probe", time.perf_counter_ns, []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(n):
            t0 = clock()
            os.write(fd, b"x" * 4096)
            os.fsync(fd)
            out.append(clock() - t0)
    finally:
        os.close(fd)
        path.unlink()
    return out


def filesystem(path: Path) -> str:
    out = subprocess.run(["df", "-T", str(path)], capture_output=True, text=True).stdout.splitlines()
    return " ".join(out[-1].split()[:2]) if len(out) > 1 else "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="orders per variant (after 50 warm-up orders)")
    ap.add_argument("--variants", default="disk,tmpfs,disk-normal")
    ap.add_argument("--dir", type=Path, help="where the disk roots go (default: a temporary directory on the "
                                             "checkout's filesystem when /tmp is elsewhere)")
    args = ap.parse_args()
    disk_parent = args.dir or Path(tempfile.gettempdir())
    if os.stat(disk_parent).st_dev != os.stat(REPO).st_dev and args.dir is None:
        disk_parent = REPO / "var"  # /tmp is another filesystem: use the checkout's own
        disk_parent.mkdir(exist_ok=True)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"disk roots under {disk_parent} ({filesystem(disk_parent)}); tmpfs roots under /dev/shm")
    bare = summary(bare_fills(args.n))
    print(f"bare paper fill:            median {bare[0]:8.1f} µs  p99 {bare[1]:8.1f} µs")
    rows = []
    for variant in args.variants.split(","):
        parent = Path("/dev/shm") if variant == "tmpfs" else disk_parent
        base = Path(tempfile.mkdtemp(prefix="bench-gateway-", dir=parent))
        try:
            floor = summary(fsync_floor(base))
            times, n, stmts = gateway_orders(base, args.n, synchronous="NORMAL" if variant == "disk-normal" else None)
        finally:
            reset_cache()
            shutil.rmtree(base, ignore_errors=True)
        med, p99, low = summary(times)
        over = med - bare[0]
        verdict = "pass" if over <= 1000.0 else f"MISS by {over / 1000 - 1:.2f} ms"
        rows.append((variant, n, med, p99, low, over, floor[0], verdict))
        per_order = ", ".join(f"{k} {v:g}" for k, v in stmts.items())
        print(f"gateway submit [{variant:11s}] {n} orders: median {med / 1000:7.3f} ms  p99 {p99 / 1000:7.3f} ms  "
              f"min {low / 1000:7.3f} ms  overhead {over / 1000:7.3f} ms  (4 KiB write+fsync median "
              f"{floor[0] / 1000:.3f} ms)  bar <= 1 ms median: {verdict}\n    SQL per order: {per_order}")
    print("\n| variant | orders | median ms | p99 ms | min ms | overhead over bare fill, median ms | "
          "4 KiB write+fsync median ms | bar <= 1 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for variant, n, med, p99, low, over, floor_med, verdict in rows:
        print(f"| {variant} | {n} | {med / 1000:.3f} | {p99 / 1000:.3f} | {low / 1000:.3f} | {over / 1000:.3f} | "
              f"{floor_med / 1000:.3f} | {verdict} |")
    return 0 if all(r[-1] == "pass" for r in rows if r[0] == "disk") else 1


if __name__ == "__main__":
    sys.exit(main())
