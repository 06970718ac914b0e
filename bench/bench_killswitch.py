"""Kill switch engage -> every running session blocks its next order (DESIGN 5/10 bar: <= 1 s).

Each round: a fresh ``peaktrade init`` root (dummy exchange paced at ``bar_seconds = 0.05``,
``ma_crossover`` with windows 1/2 so a session wants an order about every other bar), N real
``peaktrade session run --mode testnet --profile standard`` processes, all trading on the testnet
account. Once every session has filled an order, ``peaktrade kill-switch engage`` runs as its own
process. For each session the script reads ``live_runs/<run>/events.jsonl`` and finds the first event
after the engagement whose order was blocked; it must carry ``risk_reasons == ["kill switch engaged"]``. The
session's order intents reserved after the engagement began are listed by their time relative to the commit
(an order whose kill-switch read came just before the commit may be reserved just after it). Latency is
measured
  from the engage command's start  (what an operator waits: includes the CLI's own start-up)
  from the commit                  (seen by a thread polling the stored switch every 2 ms; ``since`` is
                                    stamped before the engage opens the store and waits for the write lock)
to the ``ts_event`` of that blocked event (wall clock of the same machine). The figure includes the
wait for the session's next order (the strategy wants one about every other 50 ms bar). Sessions are
stopped with SIGTERM (SIGKILL after 15 s) and the roots removed, whatever happens.

    python bench/bench_killswitch.py [--sessions 3] [--rounds 3] [--bar-seconds 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

PEAKTRADE = [sys.executable, "-m", "peaktrade"]
BLOCK = ["kill switch engaged"]


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def make_root(base: Path, bar_seconds: float) -> Path:
    root = base / "desk"
    out = subprocess.run([*PEAKTRADE, "init", str(root)], capture_output=True, text=True, timeout=120)
    if out.returncode:
        raise SystemExit(f"peaktrade init failed: {out.stderr.strip()}")
    cfg = root / "config" / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    for key, value in {"bar_seconds": bar_seconds, "fast_window": 1, "slow_window": 2}.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
    cfg.write_text(text, encoding="utf-8")
    return root


def events(run_dir: Path) -> list[dict]:
    path = run_dir / "events.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:  # a line being written right now
            break
    return out


def wait_trading(root: Path, n: int, deadline: float) -> list[Path]:
    """The run folders of the n sessions, once each has filled at least one order."""
    while time.monotonic() < deadline:
        runs = sorted(p for p in (root / "live_runs").glob("testnet_*") if p.is_dir())
        if len(runs) == n and all(any(e.get("orders_filled") for e in events(r)) for r in runs):
            return runs
        time.sleep(0.05)
    raise SystemExit(f"the {n} sessions did not all trade within the time allowed")


def first_block_after(run_dir: Path, since: float, deadline: float) -> dict:
    """The first event after ``since`` whose order was blocked."""
    while time.monotonic() < deadline:
        for e in events(run_dir):
            if e.get("ts_event") and ts(e["ts_event"]) > since and e.get("orders_blocked"):
                return e
        time.sleep(0.02)
    raise SystemExit(f"{run_dir.name}: no blocked order after the engagement in time")


class CommitWatcher(threading.Thread):
    """Sees the engagement's commit: polls the stored switch every 2 ms through a read-only connection of this
    (benchmark) process, which holds no other handle on the desk file."""

    def __init__(self, root: Path):
        super().__init__(daemon=True)
        self.path, self.seen, self.stop = root / "var" / "desk.sqlite", None, threading.Event()

    def run(self) -> None:
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            while not self.stop.is_set():
                if con.execute("SELECT state FROM kill_switch WHERE id = 1").fetchone()[0] == "KILLED":
                    self.seen = time.time()
                    return
                time.sleep(0.002)
        finally:
            con.close()


def committed_by(root: Path) -> float:
    """An upper bound of the engage's commit: its line in logs/operations.log is written right after it."""
    lines = [x for x in (root / "logs" / "operations.log").read_text(encoding="utf-8").splitlines()
             if '"kill-switch engage"' in x]
    return ts(lines[-1].split()[0])


def reservations_after(root: Path, run: str, since: float) -> list[tuple[float, str]]:
    """(reserved at, status) of this run's order intents reserved after ``since`` (read-only look at the store)."""
    con = sqlite3.connect(f"file:{root / 'var' / 'desk.sqlite'}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT created_at, status FROM intents WHERE origin = ?", (run,)).fetchall()
    finally:
        con.close()
    return [(ts(c), st) for c, st in rows if ts(c) > since]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    end = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def one_round(n: int, bar_seconds: float, budget_s: float) -> list[dict]:
    base = Path(tempfile.mkdtemp(prefix="bench-killswitch-"))
    procs: list[subprocess.Popen] = []
    try:
        root = make_root(base, bar_seconds)
        for i in range(n):
            log = open(base / f"session-{i}.out", "w")  # noqa: SIM115 - closed with the round's folder
            procs.append(subprocess.Popen([*PEAKTRADE, "--root", str(root), "session", "run", "--mode", "testnet",
                                           "--profile", "standard", "--steps", "100000"], stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True))
            time.sleep(0.3)  # a few bars apart, as sessions are started by people
        deadline = time.monotonic() + budget_s
        runs = wait_trading(root, n, deadline)
        time.sleep(0.37)  # off the bar boundary of any session
        watcher = CommitWatcher(root)
        watcher.start()
        t_cmd = time.time()
        out = subprocess.run([*PEAKTRADE, "--root", str(root), "kill-switch", "engage", "--reason", "benchmark",
                              "--operator", "bench", "--json"], capture_output=True, text=True, timeout=60)
        t_done = time.time()
        if out.returncode:
            raise SystemExit(f"kill-switch engage failed: {out.stderr.strip()}")
        since = ts(json.loads(out.stdout)["since"])  # stamped as the engage began its transaction
        upper = committed_by(root)
        watcher.join(timeout=5)
        watcher.stop.set()
        seen = watcher.seen or upper
        results = []
        for run in runs:
            event = first_block_after(run, since, deadline)
            after = reservations_after(root, run.name, since)
            results.append({"run": run.name, "reasons": event.get("risk_reasons"), "step": event["step"],
                            "from_cmd_ms": (ts(event["ts_event"]) - t_cmd) * 1000,
                            "from_commit_ms": (ts(event["ts_event"]) - seen) * 1000,
                            "cmd_ms": (t_done - t_cmd) * 1000, "since_to_commit_ms": (seen - since) * 1000,
                            "reserved": [f"{(t - seen) * 1000:+.0f}" + (f" {st}" if t > seen else "")
                                         for t, st in after],
                            "after_commit": sum(t > seen for t, _ in after)})
        return results
    finally:
        stop(procs)
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bar-seconds", type=float, default=0.05)
    ap.add_argument("--budget", type=float, default=90.0, help="seconds a round may take at most")
    a = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {a.sessions} sessions x {a.rounds} "
          f"rounds, bar_seconds {a.bar_seconds}")
    print("| round | run | first blocked order | risk_reasons | from the engage command, ms | from the commit, ms | "
          "orders reserved after `since`, ms from the commit (status if after it) |")
    print("|---|---|---|---|---|---|---|")
    all_rows, ok = [], True
    for r in range(1, a.rounds + 1):
        rows = one_round(a.sessions, a.bar_seconds, a.budget)
        for row in rows:
            good = row["reasons"] == BLOCK and row["from_cmd_ms"] <= 1000
            ok &= good
            print(f"| {r} | {row['run']} | step {row['step']} | {row['reasons']} | {row['from_cmd_ms']:.0f} | "
                  f"{row['from_commit_ms']:.0f} | {', '.join(row['reserved']) or '-'} |")
        print(f"<!-- round {r}: the engage command took {rows[0]['cmd_ms']:.0f} ms; its commit was seen "
              f"{rows[0]['since_to_commit_ms']:.0f} ms after its `since` stamp -->")
        all_rows += rows
    cmd = sorted(x["from_cmd_ms"] for x in all_rows)
    commit = sorted(x["from_commit_ms"] for x in all_rows)
    print(f"\nall {len(cmd)} sessions: from the engage command median {statistics.median(cmd):.0f} ms, max "
          f"{cmd[-1]:.0f} ms; from the commit median {statistics.median(commit):.0f} ms, max {commit[-1]:.0f} ms; "
          f"engage command median {statistics.median(x['cmd_ms'] for x in all_rows):.0f} ms; "
          f"bar <= 1 s for every session: {'pass' if ok else 'MISS'}")
    late = sum(x["after_commit"] for x in all_rows)
    if late:
        print(f"{late} order(s) reserved just after the commit was seen: their kill-switch read came before it (the "
              "gateway reads the switch before, not inside, the reservation's transaction)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
