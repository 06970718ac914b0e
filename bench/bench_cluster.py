"""Benchmark: a desk on several hosts on one PostgreSQL (DESIGN 11).

Starts a PostgreSQL on loopback the way the cluster tests do (initdb/pg_ctl, as the postgres user
under root), durable (fsync and synchronous_commit on), then measures:

1. claim latency: one agent claiming queued runs one at a time, then three agents (processes)
   claiming at once from one queue (``FOR UPDATE SKIP LOCKED``);
2. kill-switch propagation across hosts: three "hosts" (processes) reading the switch the way an
   order does (``kill_switch()``, LISTEN/NOTIFY watcher plus bounded poll) every millisecond; the
   time from the engage's commit to each host seeing it, over repeated engagements;
3. desk risk reservations per second from 50 concurrent sessions (processes, one connection each),
   all on one account (the worst case: every reservation and fill changes the same account), then
   spread over 10 and over 50 accounts (no contention), with the real risk decision; each reservation
   is followed by its fill (booked into the ledger), as on a paper venue. Both paths: ``cas`` (the
   store's: a lock-free read, the decision, one compare-and-set statement; the row lock after 3 lost
   races, then at once for that account a while) and ``lock`` (the row lock from the start:
   ``cas_tries = 0``); ``--reserve cas-always`` adds ``cas`` without that contention memory;
4. one store shared by 10 threads at once (the dashboard's request threads), reading: one connection
   behind a lock (``pool_max=1``) against the bounded psycopg-pool the store starts when threads contend;
   on loopback, and with a 1 ms server-side wait per page standing for the round trip to a PostgreSQL
   on another host (``pg_sleep``: the connection waits, no CPU is spent).

    .venv/bin/python bench/bench_cluster.py [--claims N] [--engagements N] [--sessions N] [--per-session N]
                                            [--reserve cas,lock] [--accounts 1,10,50] [--only SECTION]
                                            [--no-fsync]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "cluster"))

from pgserver import PgServer, find_problem  # noqa: E402

T0 = "2026-01-01T00:00:00Z"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(v: float) -> str:
    return f"{v * 1000:.2f} ms"


def queue(url: str, n: int, tag: str) -> None:
    from peaktrade.desk.postgres import PostgresDesk
    from peaktrade.desk.store import RunRecord

    store = PostgresDesk(url)
    for i in range(n):
        run_id = f"shadow_20260101_{tag}_{i:06x}"
        store.add_run(RunRecord(run_id, "shadow", "ma", "BTC/EUR", "1m", "standard", created_at=f"{tag}{i:08d}"))
        store.queue_run(run_id, host="")
    store.close()


def claimer(url: str, host: str, start, out) -> None:
    from peaktrade.desk.postgres import PostgresDesk

    store = PostgresDesk(url, host_id=host)
    store.kill_switch()  # connected before the start
    start.wait()
    times, got = [], 0
    while True:
        t = time.perf_counter()
        batch = store.claim_runs(host, limit=1, at=T0)
        times.append(time.perf_counter() - t)
        if not batch:
            break
        got += 1
    out.put((host, got, times[:-1]))


def bench_claims(url: str, n: int) -> list[str]:
    queue(url, n, "000001")
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    p = ctx.Process(target=claimer, args=(url, "solo", start, out))
    p.start()
    start.set()
    _, got, solo = out.get(timeout=600)
    p.join()
    queue(url, n, "000002")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=claimer, args=(url, f"h{i}", start, out)) for i in range(3)]
    for q in procs:
        q.start()
    time.sleep(1.0)
    t = time.perf_counter()
    start.set()
    parts = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t
    for q in procs:
        q.join()
    contended = [x for _, _, ts in parts for x in ts]
    total = sum(g for _, g, _ in parts)
    return [f"one agent: {got} claims, p50 {ms(statistics.median(solo))}, p99 {ms(pct(solo, 99))}",
            f"three agents at once: {total} claims (each exactly once: {total == n}), "
            f"{', '.join(f'{h} {g}' for h, g, _ in parts)}; p50 {ms(statistics.median(contended))}, "
            f"p99 {ms(pct(contended, 99))}; {total / wall:.0f} claims/s together"]


def watcher(url: str, host: str, ready, stop, out) -> None:
    from peaktrade.desk.postgres import PostgresDesk

    store = PostgresDesk(url, host_id=host)
    store.kill_switch()
    store.kill_switch()  # the second read starts the LISTEN watcher, as in a session
    time.sleep(0.3)
    ready.set()
    seen: dict[int, float] = {}
    while not stop.is_set():
        row = store.kill_switch()
        if row.engagement not in seen:
            seen[row.engagement] = time.time()
        time.sleep(0.001)
    out.put(seen)


def bench_propagation(url: str, n: int) -> list[str]:
    from peaktrade.desk.postgres import PostgresDesk

    ctx = mp.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    readies = [ctx.Event() for _ in range(3)]
    procs = [ctx.Process(target=watcher, args=(url, f"host-{i}", readies[i], stop, out)) for i in range(3)]
    for p in procs:
        p.start()
    for r in readies:
        r.wait(60)
    store = PostgresDesk(url, host_id="engager")
    committed: dict[int, float] = {}
    for _ in range(n):
        row = store.engage(reason="bench", by="bench", at=T0)
        committed[row.engagement] = time.time()
        time.sleep(0.2)
    time.sleep(1.0)
    stop.set()
    seen = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join()
    delays = [s[e] - t for s in seen for e, t in committed.items() if e in s]
    missed = sum(1 for s in seen for e in committed if e not in s)
    return [f"{n} engagements x 3 hosts: p50 {ms(statistics.median(delays))}, p99 {ms(pct(delays, 99))}, "
            f"max {ms(max(delays))}; never seen: {missed}"]


def session(url: str, idx: int, k: int, start, out, mode: str = "cas", accounts: int = 1) -> None:
    from peaktrade.desk.postgres import PostgresDesk
    from peaktrade.desk.store import Intent
    from peaktrade.gateway.deskrisk import DeskRisk
    from peaktrade.policy.limits import RiskLimits

    store = PostgresDesk(url, host_id=f"s{idx}")
    if mode == "lock":
        store.cas_tries = 0  # the row lock from the start: the path before the compare-and-set
    elif mode == "cas-always":
        store.contended_s = 0.0  # no memory of contention: every reservation tries the compare-and-set first
    account = "testnet" if accounts == 1 else f"acct{idx % accounts}"
    risk = DeskRisk(RiskLimits(max_total_exposure=1e12, max_symbol_exposure=1e12, max_order_notional=1e9))
    store.kill_switch()
    start.wait()
    times, ok = [], 0
    for j in range(k):
        intent = Intent(f"s{idx}-{j}", account, "BTC/EUR", "buy", 0.001, None, "market", f"run-{idx}", str(j))

        def decide(ledger, open_intents):
            d = risk.decide(ledger, open_intents, symbol="BTC/EUR", side="buy", quantity=0.001, price=None,
                            mark=100.0)
            return d.allowed, d

        t = time.perf_counter()
        ok += store.reserve(intent, decide)[0]
        times.append(time.perf_counter() - t)
        # as in a session, the order fills (paper venue): the intent closes and the position grows, so the
        # open intents stay few, as they do on a desk
        store.apply_fill(intent.client_order_id, quantity=0.001, price=100.0, fee=0.0, at=T0)
    out.put((ok, times, dict(store.reservations)))


def bench_reservations(url: str, sessions: int, k: int, mode: str, accounts: int) -> list[str]:
    from peaktrade.desk.postgres import PostgresDesk

    setup = PostgresDesk(url)
    with setup._tx() as con:  # each run starts from empty accounts (earlier runs' fills grow the positions)
        con.execute("DELETE FROM intents")
        con.execute("DELETE FROM positions")
        con.execute("DELETE FROM accounts")
    for a in ["testnet"] if accounts == 1 else [f"acct{i}" for i in range(accounts)]:
        setup.ensure_account(a, cash=1e9)
    setup.close()
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=session, args=(url, i, k, start, out, mode, accounts)) for i in range(sessions)]
    for p in procs:
        p.start()
    time.sleep(3.0)
    t = time.perf_counter()
    start.set()
    parts = [out.get(timeout=900) for _ in procs]
    wall = time.perf_counter() - t
    for p in procs:
        p.join()
    total = sum(ok for ok, _, _ in parts)
    lat = [x for _, ts, _ in parts for x in ts]
    paths = {key: sum(st.get(key, 0) for _, _, st in parts) for key in ("cas", "lost", "locked")}
    where = "one account" if accounts == 1 else f"{accounts} accounts"
    return [f"{mode}: {sessions} sessions x {k} reservations (each then filled) on {where}: {total} accepted in "
            f"{wall:.2f} s = {total / wall:.0f} reservations/s (and as many fills); per reservation p50 "
            f"{ms(statistics.median(lat))}, p99 {ms(pct(lat, 99))}; landed by compare-and-set {paths['cas']}, "
            f"races lost {paths['lost']}, row-lock fallbacks {paths['locked']}"]


def _reader(store, start, calls: int, lat: list[float], wait_s: float) -> None:
    start.wait()
    for _ in range(calls):
        t = time.perf_counter()
        if wait_s:  # stands for the round trip to a server on another host: the connection waits, nobody computes
            store._read("SELECT pg_sleep(%s)", (wait_s,))
        store.ledger("shared")
        store.list_runs(limit=50)
        lat.append(time.perf_counter() - t)


def bench_shared(url: str, threads: int = 10, calls: int = 300) -> list[str]:
    import threading

    from peaktrade.desk.postgres import PostgresDesk

    lines = []
    for wait_s, pool_max in ((0.0, 1), (0.0, 4), (0.001, 1), (0.001, 4)):
        store = PostgresDesk(url, host_id=f"shared{pool_max}", pool_max=pool_max)
        store.ensure_account("shared", cash=1.0)
        start = threading.Barrier(threads + 1)
        lat: list[float] = []
        readers = [threading.Thread(target=_reader, args=(store, start, calls, lat, wait_s)) for _ in range(threads)]
        for th in readers:
            th.start()
        start.wait()
        t = time.perf_counter()
        for th in readers:
            th.join()
        wall = time.perf_counter() - t
        what = "one connection behind a lock" if pool_max == 1 else f"pool (max {pool_max})"
        where = "+ 1 ms server wait" if wait_s else "loopback"
        lines.append(f"{what}, {where}: {threads} threads x {calls} page reads (ledger + run list): "
                     f"{threads * calls / wall:.0f} pages/s, p50 {ms(statistics.median(lat))}, p99 {ms(pct(lat, 99))}")
        store.close()
    return lines


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=300)
    ap.add_argument("--engagements", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--per-session", type=int, default=40)
    ap.add_argument("--reserve", default="cas,lock", help="Reservation paths to measure: cas, lock (comma separated).")
    ap.add_argument("--accounts", default="1,10,50", help="Account layouts for the reservations (comma separated).")
    ap.add_argument("--only", help="Only the sections whose title contains this (claim, kill, risk, shared).")
    ap.add_argument("--no-fsync", action="store_true", help="Compare: a server without fsync (never in production).")
    args = ap.parse_args()
    problem = find_problem()
    if problem:
        print(f"bench_cluster: skipped: {problem}")
        return 0
    from peaktrade.desk.postgres import PostgresDesk

    server = PgServer(durable=not args.no_fsync)
    try:
        server.start()
        url = server.url()
        PostgresDesk(url).migrate(at=T0)
        import os

        print(f"PostgreSQL on loopback, {'no fsync' if args.no_fsync else 'durable commits'}; load average "
              f"{os.getloadavg()[0]:.1f}")
        sections = [("claim latency", lambda: bench_claims(url, args.claims)),
                    ("kill-switch propagation", lambda: bench_propagation(url, args.engagements)),
                    ("risk reservations", lambda: [line for n in args.accounts.split(",")
                                                   for mode in args.reserve.split(",")
                                                   for line in bench_reservations(url, args.sessions, args.per_session,
                                                                                  mode.strip(), int(n))]),
                    ("one store shared by threads", lambda: bench_shared(url))]
        for title, run in sections:
            if args.only and args.only not in title:
                continue
            print(f"{title}:", flush=True)
            for line in run():
                print(f"  {line}", flush=True)
    finally:
        server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
