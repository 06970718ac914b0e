"""Reservations on the PostgreSQL desk state: one compare-and-set statement on the account's version.

The decision runs on a lock-free snapshot; the intent lands only if the account is still at the version
the decision saw; a change in between (injected here from a second connection, as another host would)
makes it read and decide again; after ``CAS_TRIES`` lost races it takes the account's row lock. Many
threads and processes on one account never pass ``max_total_exposure`` together."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from peaktrade.desk.pgledger import CAS_TRIES
from peaktrade.desk.store import DeskUnavailable, Intent

PROBE = str(Path(__file__).with_name("hostproc.py"))
T0 = "2026-01-01T00:00:00Z"


@pytest.fixture
def stores(pg_url: str):
    from peaktrade.desk.postgres import PostgresDesk

    made: list[PostgresDesk] = []

    def make(**kw) -> PostgresDesk:
        made.append(PostgresDesk(pg_url, host_id=f"h{len(made)}", **kw))
        return made[-1]

    make().ensure_account("testnet", cash=100_000.0)
    yield make
    for s in made:
        s.close()


def _intent(cid: str, qty: float = 1.0) -> Intent:
    return Intent(cid, "testnet", "BTC/EUR", "buy", qty, None, "market", "run-1", cid, "reserved",
                  created_at=T0, updated_at=T0)


def _version(store) -> int:
    return store.ledger("testnet").version


def _fits(limit: float, qty: float):
    """A decision on open intents only: the new quantity must fit under ``limit`` with the open ones."""
    return lambda ledger, open_: (sum(o.remaining for o in open_) + qty <= limit, "fits")


def test_cas_commits_exactly_when_the_version_is_unchanged(stores):
    s = stores()
    seen = []

    def decide(ledger, open_):
        seen.append(ledger.version)
        return True, "ok"

    before = _version(s)
    assert s.reserve(_intent("a-1"), decide) == (True, "ok")
    assert seen == [before] and _version(s) == before + 1  # committed on the version the decision saw
    assert s.get_intent("a-1").status == "reserved"
    assert dict(s.reservations) == {"cas": 1}
    assert s.reserve(_intent("a-2"), lambda led, o: (False, "no")) == (False, "no")
    assert s.get_intent("a-2") is None and _version(s) == before + 1  # a refusal writes nothing
    assert s.reserve(Intent("x", "nobody", "BTC/EUR", "buy", 1.0, None, "market", "r", "1"), decide)[0] is False


def test_a_change_between_read_and_write_makes_it_decide_again(stores):
    s, other = stores(), stores()
    calls = []

    def decide(ledger, open_):
        calls.append((ledger.version, sum(o.remaining for o in open_)))
        if len(calls) == 1:  # another host reserves 6 between this read and this write (at once: no lock is
            # held while this one decides; under the row lock it would wait for it)
            assert other.reserve(_intent("other-1", 6.0), _fits(10.0, 6.0))[0]
        return _fits(10.0, 5.0)(ledger, open_)

    ok, _ = s.reserve(_intent("mine-1", 5.0), decide)
    assert not ok  # decided again on the new snapshot: 6 + 5 > 10
    assert [c[1] for c in calls] == [0.0, 6.0] and calls[1][0] == calls[0][0] + 1
    assert s.get_intent("mine-1") is None and [i.client_order_id for i in s.open_intents("testnet")] == ["other-1"]
    assert s.reservations["lost"] == 1 and s.reservations["cas"] == 0

    calls.clear()

    def decide_fits(ledger, open_):
        calls.append(ledger.version)
        if len(calls) == 1:  # the other host cancels its intent: the version changes, the decision still fits
            other.update_intent("other-1", status="canceled", updated_at=T0)
        return _fits(20.0, 5.0)(ledger, open_)

    assert s.reserve(_intent("mine-2", 5.0), decide_fits)[0]
    assert len(calls) == 2 and s.reservations["cas"] == 1 and s.reservations["lost"] == 2


def test_after_lost_races_it_takes_the_row_lock(stores, pg_url: str):
    s, other = stores(), stores()
    calls = []

    def decide(ledger, open_):
        calls.append(ledger.version)
        if len(calls) <= CAS_TRIES:  # every optimistic try loses: another writer bumps the account each time
            other.set_marks("testnet", {"BTC/EUR": 100.0 + len(calls)})
        else:  # the fallback decides while holding the account's row lock: nobody else can take it
            with psycopg.connect(pg_url, autocommit=True) as probe:
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    probe.execute("SELECT 1 FROM accounts WHERE account = 'testnet' FOR UPDATE NOWAIT")
        return True, "ok"

    assert s.reserve(_intent("late-1"), decide) == (True, "ok")
    assert len(calls) == CAS_TRIES + 1
    assert dict(s.reservations) == {"lost": CAS_TRIES, "locked": 1}
    assert s.get_intent("late-1") is not None and _version(s) == calls[-1] + 1
    calls.clear()  # the account is contended for this store a while: the next one takes the lock at once
    calls.extend([0] * CAS_TRIES)  # (so that decide probes the lock instead of bumping the account)
    assert s.reserve(_intent("late-2"), decide)[0] and len(calls) == CAS_TRIES + 1
    assert s.reservations["locked"] == 2 and s.reservations["lost"] == CAS_TRIES
    s._contended["testnet"] = (0.0, 2.0)  # the while is over: one probing try, which loses again here
    calls[:] = [0] * (CAS_TRIES - 1)
    assert s.reserve(_intent("late-3"), decide)[0] and len(calls) == CAS_TRIES + 1
    assert s.reservations["lost"] == CAS_TRIES + 1 and s._contended["testnet"][1] == 4.0  # a longer while
    s._contended["testnet"] = (0.0, 4.0)  # over again: the probe lands, the account is no longer contended
    assert s.reserve(_intent("late-5"), lambda led, o: (True, None))[0] and s.reservations["cas"] == 1
    assert "testnet" not in s._contended

    forced = stores()
    forced.cas_tries = 0  # the lock path alone (the benchmark compares both)
    assert forced.reserve(_intent("late-4"), lambda led, o: (True, None))[0]
    assert dict(forced.reservations) == {"locked": 1}


def test_a_store_error_fails_closed(stores, pg_url: str):
    s = stores()
    s.reserve(_intent("dup-1"), lambda led, o: (True, None))
    with pytest.raises(DeskUnavailable):  # the same client order id twice: refused, nothing written
        s.reserve(_intent("dup-1"), lambda led, o: (True, None))
    assert len(s.open_intents("testnet")) == 1
    with psycopg.connect(pg_url, autocommit=True) as con:  # the store dies between the decision and the write
        def decide(ledger, open_):
            con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                        (f"peaktrade@{s.host_id}",))
            return True, None

        with pytest.raises(DeskUnavailable, match="unreachable or refused"):
            s.reserve(_intent("dead-1"), decide)
    assert s.get_intent("dead-1") is None  # and the store is usable again afterwards


def _real_decide(risk, qty: float):
    def decide(ledger, open_):
        d = risk.decide(ledger, open_, symbol="BTC/EUR", side="buy", quantity=qty, price=None, mark=100.0)
        return d.allowed, d
    return decide


@pytest.mark.parametrize("shared", [False, True], ids=["store-per-thread", "one-store-pooled"])
def test_threads_on_one_account_never_pass_the_exposure_limit(stores, shared: bool):
    from peaktrade.desk.postgres import PostgresDesk
    from peaktrade.gateway.deskrisk import DeskRisk
    from peaktrade.policy.limits import RiskLimits

    limits = RiskLimits(max_total_exposure=1000.0, max_symbol_exposure=1000.0, max_order_notional=500.0)
    one = stores() if shared else None
    accepted = [0] * 8
    made: list[PostgresDesk] = []
    start = threading.Barrier(8)

    def work(i: int) -> None:
        store = one or stores()
        made.append(store)
        risk = DeskRisk(limits)
        start.wait()
        for k in range(6):
            intent = _intent(f"t{i}-{k}")
            ok, _ = store.reserve(intent, _real_decide(risk, 1.0))
            accepted[i] += ok
            if ok and k % 2:  # half of them fill at once: positions and open intents both count
                store.apply_fill(intent.client_order_id, quantity=1.0, price=100.0, fee=0.0, at=T0)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(accepted) == 10  # 10 x 100 EUR = max_total_exposure
    check = stores()
    pos = check.ledger("testnet").positions.get("BTC/EUR")
    assert (pos.quantity if pos else 0.0) + sum(i.remaining for i in check.open_intents("testnet")) == 10.0
    cas, locked = (sum(s.reservations[k] for s in set(made)) for k in ("cas", "locked"))
    assert cas <= 10 <= cas + locked  # each accepted one landed by compare-and-set or under the row lock
    if shared:
        assert one._pool is not None  # threads found the one connection busy: the store pooled


@pytest.mark.slow
def test_processes_on_one_account_never_pass_the_exposure_limit(pg_url: str):
    from peaktrade.desk.postgres import PostgresDesk

    store = PostgresDesk(pg_url)
    store.ensure_account("testnet", cash=100_000.0)
    procs = [subprocess.Popen([sys.executable, PROBE, "reserve", pg_url, f"p{i}", "6"], stdout=subprocess.PIPE,
                              text=True) for i in range(6)]
    accepted = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(accepted) == 10  # 10 x 100 EUR = max_total_exposure, across six processes
    assert len(store.open_intents("testnet")) == 10
    store.close()
