"""The PostgreSQL desk state keeps the SQLite desk's semantics (the same tests run on both), across
connections that stand for hosts: one engage wins, one reservation fits a limit, one approval use."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from peaktrade.desk.sqlite import SqliteDesk
from peaktrade.desk.store import AlertRow, DeskUnavailable, Intent, KillSwitchRow, PlayRow, RunRecord

T0 = "2026-01-01T00:00:00Z"


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request, tmp_path: Path):
    made = []
    if request.param == "sqlite":
        path = tmp_path / "desk.sqlite"
        first = SqliteDesk(path)
        first.init_kill_switch(KillSwitchRow("ACTIVE"))
        made.append(first)

        def make():
            made.append(SqliteDesk(path))
            return made[-1]
    else:
        from peaktrade.desk.postgres import PostgresDesk

        url = request.getfixturevalue("pg_url")

        def make():
            made.append(PostgresDesk(url, var_dir=tmp_path / "var", host_id="h1"))
            return made[-1]
    yield make
    for s in made:
        s.close()


def _run(i: int, **kw) -> RunRecord:
    return RunRecord(f"run-{i:03d}", "shadow", "ma", "BTC/EUR", "1m", "standard",
                     created_at=f"2026-01-01T00:{i:02d}:00Z", **kw)


def test_runs_round_trip(make_store):
    s = make_store()
    s.add_run(_run(1, play_id="p1", step_key="a"))
    s.add_run(_run(2))
    assert s.get_run("run-001").play_id == "p1"
    assert [r.run_id for r in s.list_runs()] == ["run-002", "run-001"]
    assert s.update_run("run-001", only_if=("starting",), status="running", pid=42)
    assert not s.update_run("run-001", only_if=("starting",), status="stopping")
    assert s.get_run("run-001").pid == 42
    assert [r.run_id for r in s.list_runs(active_only=True, limit=1)] == ["run-002"]
    assert s.find_run(play_id="p1", step_key="a").run_id == "run-001"
    assert s.get_run("nope") is None
    with pytest.raises(ValueError):
        s.update_run("run-001", bogus=1)


def test_kill_switch_transitions(make_store):
    s = make_store()
    assert s.kill_switch().state == "ACTIVE"
    first = s.engage(reason="drill", by="alice", at=T0)
    assert (first.state, first.by) == ("KILLED", "alice")
    again = s.engage(reason="again", by="bob", at="2026-01-01T00:01:00Z")
    assert again.engagement == first.engagement + 1
    assert s.release(engagement=first.engagement, by="carol", at=T0, until=T0, request_id="r1") is None
    rel = s.release(engagement=again.engagement, by="carol", at=T0, until="2026-01-01T00:05:00Z", request_id="r2")
    assert rel.state == "RECOVERING" and rel.request_id == "r2"
    s.settle_recovery(now="2026-01-01T00:04:00Z")
    assert s.kill_switch().state == "RECOVERING"
    s.settle_recovery(now="2026-01-01T00:06:00Z")
    assert s.kill_switch().state == "ACTIVE"


def test_ledger_bookings_match(make_store):
    s = make_store()
    s.ensure_account("paper", cash=1000.0)
    assert s.ensure_account("paper", cash=5.0).cash == 1000.0  # kept
    other = make_store()  # the marker tells another connection (process, host) that something changed
    marker = other.change_marker()
    intent = Intent("c1", "paper", "BTC/EUR", "buy", 2.0, None, "market", "run-1", "1", created_at=T0)
    ok, info = s.reserve(intent, lambda ledger, open_: (True, "fits"))
    assert (ok, info) == (True, "fits") and other.change_marker() != marker
    assert [i.client_order_id for i in s.open_intents("paper")] == ["c1"]
    s.apply_fill("c1", quantity=1.0, price=100.0, fee=0.5, at=T0)
    s.apply_fill("c1", quantity=1.0, price=110.0, fee=0.5, at=T0)
    led = s.ledger("paper")
    assert led.positions["BTC/EUR"].quantity == 2.0 and led.positions["BTC/EUR"].avg_price == 105.0
    assert led.cash == pytest.approx(1000 - 210 - 1.0)
    assert s.get_intent("c1").status == "filled" and s.open_intents("paper") == []
    sell = Intent("c2", "paper", "BTC/EUR", "sell", 1.0, None, "market", "run-1", "2", created_at=T0)
    assert s.reserve(sell, lambda led, o: (True, None))[0]
    s.apply_fill("c2", quantity=1.0, price=120.0, fee=0.0, at=T0)
    assert s.ledger("paper").realized_pnl == pytest.approx(15.0 - 1.0)
    s.set_marks("paper", {"BTC/EUR": 130.0})
    assert s.ledger("paper").positions["BTC/EUR"].mark == 130.0
    s.set_day("paper", day="2026-01-02", day_start_equity=900.0)
    s.set_day("paper", day="2026-01-02", day_start_equity=1.0)  # a later observer keeps the first value
    s.halt_day("paper", day="2026-01-02", reason="loss")
    led = s.ledger("paper")
    assert (led.day_start_equity, led.halted_day, led.halted_reason) == (900.0, "2026-01-02", "loss")
    refused = Intent("c3", "paper", "BTC/EUR", "buy", 1.0, None, "market", "run-1", "3", created_at=T0)
    assert s.reserve(refused, lambda led, o: (False, "limit")) == (False, "limit")
    assert s.get_intent("c3") is None
    s.update_intent("c2", reason="x")
    s.sync_account("paper", cash=5.0, positions={"ETH/EUR": 1.0}, marks={"ETH/EUR": 10.0})
    synced = s.ledger("paper")
    assert synced.cash == 5.0 and synced.positions["ETH/EUR"].quantity == 1.0
    stranger = Intent("c4", "nobody", "X/Y", "buy", 1, None, "market", "r", "1")
    assert s.reserve(stranger, lambda *a: (True, 1))[0] is False


def test_approvals_alerts_plays(make_store):
    s = make_store()
    assert s.bind_approval("req-1", by="alice", at=T0) == "alice"
    assert s.bind_approval("req-1", by="bob", at=T0) == "alice"
    assert s.approval_use("req-1") == {"by": "alice", "at": T0} and s.approval_use("x") is None
    row = AlertRow("run_crashed|r1", "run_crashed", "r1", "CRITICAL", "firing", "gone", "pb", T0, None)
    s.put_alert(row)
    row.status, row.notifications = "resolved", 2
    s.put_alert(row)
    assert s.alert("run_crashed|r1").status == "resolved" and len(s.list_alerts(status="resolved")) == 1
    s.record_play(PlayRow("play-1", "shutdown", "alice", T0))
    s.record_play(PlayRow("play-1", "shutdown", "alice", T0, outcome="succeeded", head="abc", records=3))
    assert s.get_play("play-1").head == "abc" and [p.play_id for p in s.list_plays()] == ["play-1"]
    s.set_meta("k", "v")
    assert s.meta("k") == "v" and s.meta("missing") is None


def _at_once(n: int, work, timeout: float) -> list:
    """``work(i)`` in ``n`` threads released together by a barrier; their results, in order."""
    barrier, out = threading.Barrier(n), [None] * n

    def go(i: int) -> None:
        barrier.wait()
        out[i] = work(i)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return out


def _race(make_store, n: int, work) -> list:
    stores = [make_store() for _ in range(n)]
    return _at_once(n, lambda i: work(i, stores[i]), 60)


def test_one_approval_use_among_concurrent_binders(make_store):
    out = _race(make_store, 6, lambda i, s: s.bind_approval("req-race", by=f"op{i}", at=T0))
    assert len(set(out)) == 1 and sum(o == f"op{i}" for i, o in enumerate(out)) == 1


def test_concurrent_reservations_never_pass_a_limit_together(make_store):
    make_store().ensure_account("testnet", cash=1000.0)
    limit = 10.0

    def work(i: int, s) -> int:
        placed = 0
        for k in range(10):
            intent = Intent(f"c{i}-{k}", "testnet", "BTC/EUR", "buy", 1.0, None, "market", f"run-{i}", str(k))
            ok, _ = s.reserve(intent, lambda led, open_: (sum(o.remaining for o in open_) + 1.0 <= limit, None))
            placed += ok
        return placed

    out = _race(make_store, 4, work)
    assert sum(out) == 10 and len(make_store().open_intents("testnet")) == 10


def test_pg_schema_version_and_unmigrated_database(pg_server, pg_url):
    from peaktrade.desk.postgres import PostgresDesk
    from peaktrade.desk.store import SCHEMA_VERSION

    assert PostgresDesk(pg_url).schema_version() == SCHEMA_VERSION
    bare = PostgresDesk(pg_server.create_db("bare_db"))
    with pytest.raises(DeskUnavailable, match="peaktrade desk migrate"):
        bare.kill_switch()
    assert bare.migrate(at=T0) == (0, SCHEMA_VERSION)
    assert bare.migrate(at=T0) == (SCHEMA_VERSION, SCHEMA_VERSION)
    again = bare.migrate(recreate=True, by="alice", at=T0)
    assert again == (0, SCHEMA_VERSION) and bare.kill_switch().state == "KILLED"


def test_password_never_shown():
    from peaktrade.desk.pgschema import display_url

    assert display_url("postgresql://desk:s3cret@db.example:5432/desk") == "postgresql://desk:***@db.example:5432/desk"
    assert display_url("postgresql://desk@db/desk") == "postgresql://desk@db/desk"


def test_claims_are_exclusive_and_honour_pins(make_store):
    s = make_store()
    for i in range(60):
        s.add_run(RunRecord(f"q-{i:03d}", "shadow", "ma", "BTC/EUR", "1m", "standard",
                            created_at=f"2026-01-01T00:00:{i:02d}Z"))
        assert s.queue_run(f"q-{i:03d}", host="h2" if i % 3 == 0 else "")

    def work(i: int, st) -> list[tuple[str, str]]:
        host = f"h{i % 3 + 1}"
        got = []
        while True:
            batch = st.claim_runs(host, limit=3, at=T0)
            if not batch and not st.claim_runs(host, limit=3, at=T0):
                return got
            got += [(r.run_id, r.host) for r in batch]

    out = _race(make_store, 3, work)
    claimed = [rid for part in out for rid, _ in part]
    assert sorted(claimed) == sorted(f"q-{i:03d}" for i in range(60))  # each exactly once
    for i, part in enumerate(out):
        assert all(h == f"h{i % 3 + 1}" for _, h in part)
    pinned = {f"q-{i:03d}" for i in range(0, 60, 3)}
    assert {rid for rid, _ in out[1]} >= pinned  # every run pinned to h2 went to h2
    assert s.claim_runs("h1", limit=5, at=T0) == []


def test_agents_heartbeat_expire_and_lease(make_store):
    s = make_store()
    lease = s.agent_lease("h1")
    assert lease is not None and make_store().agent_lease("h1") is None
    assert make_store().agent_lease("h2") is not None
    assert s.heartbeat("h1", pid=10, at=T0) == "new"
    assert s.heartbeat("h1", pid=10, at=T0) == "up"
    s.add_run(RunRecord("r-1", "shadow", "ma", "BTC/EUR", "1m", "standard", created_at=T0))
    s.queue_run("r-1", host="h1")
    [claimed] = s.claim_runs("h1", limit=5, at=T0)
    s.update_run(claimed.run_id, status="running", pid=99)
    assert [a.host_id for a in s.list_agents()] == ["h1"] and s.list_agents()[0].status == "up"
    assert s.expire_agents(lost_after_s=3600, at=T0) == []
    import time

    time.sleep(1.2)
    later = "2026-01-01T01:00:00Z"  # SQLite ages by the callers' clock, PostgreSQL by the server's
    lost = s.expire_agents(lost_after_s=1.0, at=later)
    assert [r.run_id for r in lost] == ["r-1"]
    assert s.get_run("r-1").status == "lost" and "h1" in s.get_run("r-1").status_note
    assert s.list_agents()[0].status == "lost"
    assert s.heartbeat("h1", pid=10, at=later) == "lost"  # the agent learns it was declared lost
    lease.close()
    assert make_store().agent_lease("h1") is not None


def test_artifacts_recorded(make_store):
    from peaktrade.desk.store import ArtifactRow

    s = make_store()
    row = ArtifactRow("run-1", "run_log", "events.parquet", "s3://b/p/run-1/events.parquet", "ab" * 32, 10, "h1", T0)
    s.record_artifact(row)
    row.sha256 = "cd" * 32
    s.record_artifact(row)
    assert s.list_artifacts("run-1") == [row] and s.list_artifacts("other") == []


def _sessions(url: str, app: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        return con.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app,)).fetchone()[0]


def _hammer(store, threads: int = 10, calls: int = 25) -> list[int]:
    """Threads using one store at once, as the dashboard's request threads do; each returns its call count."""

    def work(_i: int) -> int:
        done = 0
        for _ in range(calls):
            assert store.ledger("paper").cash == 100.0 and store.list_runs() == []
            done += 1
        return done

    return [d or 0 for d in _at_once(threads, work, 120)]


def test_threads_at_once_share_a_bounded_pool_one_thread_keeps_one_connection(pg_url: str):
    import subprocess
    import sys

    from peaktrade.desk.pgpool import POOL_MAX
    from peaktrade.desk.postgres import PostgresDesk

    store = PostgresDesk(pg_url, host_id="pooled")
    store.ensure_account("paper", cash=100.0)
    for _ in range(20):
        store.ledger("paper")
    assert store._pool is None and _sessions(pg_url, "peaktrade@pooled") == 1  # one thread: one connection
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _sessions(pg_url, "peaktrade@pooled"))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        assert _hammer(store) == [25] * 10
    finally:
        stop.set()
        sampler.join()
    assert store._pool is not None  # a thread found the one connection busy: the store pooled
    assert peak[0] <= POOL_MAX + 1  # bounded (the first connection is closed once the pool serves)
    store.close()
    # a process that never shares its store never imports psycopg_pool (nor does the CLI)
    code = ("import sys; from peaktrade.desk.postgres import PostgresDesk; s = PostgresDesk(sys.argv[1]); "
            "s.ensure_account('x', cash=1.0); s.ledger('x'); print('psycopg_pool' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, pg_url], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.slow
def test_a_pooled_store_fails_closed_while_the_server_is_down_and_resumes(tmp_path: Path):
    import time

    from pgserver import PgServer

    from peaktrade.desk.pgpool import POOL_MAX
    from peaktrade.desk.postgres import PostgresDesk

    server = PgServer()
    try:
        server.start()
        store = PostgresDesk(server.url(), var_dir=tmp_path / "var", host_id="dash")
        store.migrate(at=T0)
        store.ensure_account("paper", cash=100.0)
        _hammer(store, threads=6, calls=10)
        assert store._pool is not None
        server.stop()
        for _ in range(POOL_MAX + 2):  # every call fails closed (the pool's bounded wait), nothing hangs or crashes
            with pytest.raises(DeskUnavailable, match="unreachable"):
                store.ledger("paper")
        with pytest.raises(DeskUnavailable):  # which every order path reads as an engaged switch
            store.kill_switch()
        server.start()
        deadline = time.monotonic() + 20
        while True:
            try:
                assert store.ledger("paper").cash == 100.0
                break
            except DeskUnavailable:
                assert time.monotonic() < deadline, "the pooled store was not used again after the server returned"
                time.sleep(0.2)
        assert _hammer(store, threads=6, calls=10) == [10] * 6
        store.close()
    finally:
        server.destroy()


def test_dashboard_requests_at_once_are_served_from_the_pool(pg_deploy: Path):
    from starlette.testclient import TestClient

    from peaktrade.desk import open_desk
    from peaktrade.root import Root
    from peaktrade.web.app import create_app

    root = Root(pg_deploy)
    codes: list[int] = []
    start = threading.Barrier(8)
    with TestClient(create_app(root), base_url="http://127.0.0.1:8765") as client:
        def browse() -> None:
            start.wait()
            for _ in range(5):
                for page in ("/banner", "/runs", "/alerts", "/plays", "/kill-switch"):
                    codes.append(client.get(page).status_code)

        threads = [threading.Thread(target=browse) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert codes == [200] * 200
    assert open_desk(root)._pool is not None  # the request threads found the one connection busy
