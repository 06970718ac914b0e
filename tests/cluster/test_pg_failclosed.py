"""Fail closed across hosts: an unreachable store reads engaged, an engage on a host cut off is kept there
and pushed when the link returns, a change reaches the other hosts' watchers within a second, and a
stopped server blocks everything without a crash and is used again when it returns."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pgserver import PgServer, free_port, use_postgres

from peaktrade.desk.store import DeskUnavailable

T0 = "2026-01-01T00:00:00Z"


def test_unreachable_store_reads_engaged(deploy: Path):
    from peaktrade.desk import reset_cache
    from peaktrade.desk.killswitch import read_kill_switch
    from peaktrade.root import Root

    use_postgres(deploy, f"postgresql://postgres@127.0.0.1:{free_port()}/desk")
    reset_cache()
    try:
        ks = read_kill_switch(Root(deploy))
        assert ks.state == "KILLED" and not ks.readable and "unreachable" in ks.reason
    finally:
        reset_cache()


def test_missing_password_variable_fails_closed(deploy: Path, pg_url: str, monkeypatch):
    from peaktrade.desk import open_desk, reset_cache
    from peaktrade.root import Root

    monkeypatch.delenv("PT_TEST_DB_PASSWORD", raising=False)
    use_postgres(deploy, pg_url, password_env="PT_TEST_DB_PASSWORD")
    reset_cache()
    try:
        with pytest.raises(DeskUnavailable, match="PT_TEST_DB_PASSWORD"):
            open_desk(Root(deploy))
    finally:
        reset_cache()


def test_engage_on_a_cut_off_host_is_kept_and_pushed(tmp_path: Path, pg_url: str):
    from peaktrade.desk.postgres import PostgresDesk

    var_a = tmp_path / "host-a" / "var"
    cut_off = PostgresDesk(f"postgresql://postgres@127.0.0.1:{free_port()}/desk", var_dir=var_a, host_id="a")
    row = cut_off.engage(reason="partition drill", by="alice", at=T0)
    assert row.state == "KILLED" and "unreachable" in row.reason
    assert cut_off.kill_switch().state == "KILLED"  # this host's sessions read it engaged
    other_host = PostgresDesk(pg_url, var_dir=tmp_path / "host-b" / "var", host_id="b")
    assert other_host.kill_switch().state == "ACTIVE"  # not yet pushed
    back = PostgresDesk(pg_url, var_dir=var_a, host_id="a")  # the link returns
    pushed = back.kill_switch()
    assert pushed.state == "KILLED" and pushed.reason == "partition drill" and pushed.by == "alice"
    assert not (var_a / "kill-switch.pending.json").exists()
    assert other_host.kill_switch().state == "KILLED"


def test_watchers_on_other_hosts_see_an_engage_within_a_second(tmp_path: Path, pg_url: str):
    from peaktrade.desk.postgres import PostgresDesk

    hosts = [PostgresDesk(pg_url, var_dir=tmp_path / h, host_id=h) for h in ("a", "b", "c")]
    watchers = [h.watch() for h in hosts[1:]]
    for w in watchers:
        assert w.wait_change(("none", -1), 5.0) is not None  # first read done
    before = hosts[1].kill_switch()
    t0 = time.monotonic()
    hosts[0].engage(reason="drill", by="alice", at=T0)
    for w in watchers:
        row = w.wait_change((before.state, before.engagement), 1.0)
        assert row is not None and row.state == "KILLED"
    assert time.monotonic() - t0 < 1.0
    assert all(h.kill_switch().state == "KILLED" for h in hosts)
    for h in hosts:
        h.close()


@pytest.mark.slow
def test_stopped_server_blocks_then_everything_resumes(tmp_path: Path):
    from peaktrade.desk.postgres import PostgresDesk

    server = PgServer()
    try:
        server.start()
        url = server.url()
        store = PostgresDesk(url, var_dir=tmp_path / "var", host_id="a")
        store.migrate(at=T0)
        store.ensure_account("paper", cash=100.0)
        watcher = store.watch()
        assert watcher.wait_change(("none", -1), 5.0) is not None
        server.stop()
        time.sleep(1.2)  # the watcher's copy goes stale: reads go to the (stopped) server
        with pytest.raises(DeskUnavailable, match="unreachable"):
            store.kill_switch()
        with pytest.raises(DeskUnavailable):
            store.ledger("paper")
        server.start()
        deadline = time.monotonic() + 20
        while True:
            try:
                assert store.kill_switch().state == "ACTIVE"
                break
            except DeskUnavailable:
                assert time.monotonic() < deadline, "the store was not used again after the server returned"
                time.sleep(0.2)
        assert store.ledger("paper").cash == 100.0
        store.close()
    finally:
        server.destroy()
