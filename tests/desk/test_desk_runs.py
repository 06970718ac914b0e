"""The run registry in the desk state: conditional transitions, and two processes hammering it at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

from peaktrade.desk.sqlite import SqliteDesk
from peaktrade.runtime.registry import DeskRegistry, RunRecord


def SqliteRegistry(path):  # noqa: N802 - the registry view over a desk store at path
    return DeskRegistry(SqliteDesk(path))


def _rec(run_id: str, status: str = "starting") -> RunRecord:
    return RunRecord(run_id, "testnet", "ma_crossover", "BTC/EUR", "1m", "standard", status=status,
                     created_at=f"2025-12-07T12:00:{run_id[-2:]}Z")


def test_conditional_updates_and_listing(tmp_path):
    reg = SqliteRegistry(tmp_path / "desk.sqlite")
    reg.add(_rec("testnet_20251207_120000_aaaa01"))
    reg.add(_rec("testnet_20251207_120000_aaaa02", "completed"))
    assert reg.update("testnet_20251207_120000_aaaa01", only_if=("starting",), status="running", pid=42)
    assert not reg.update("testnet_20251207_120000_aaaa01", only_if=("starting",), status="stopping")
    got = reg.get("testnet_20251207_120000_aaaa01")
    assert (got.status, got.pid, got.active) == ("running", 42, True)
    assert [r.run_id for r in reg.list(active_only=True)] == ["testnet_20251207_120000_aaaa01"]
    assert [r.run_id for r in reg.list()] == ["testnet_20251207_120000_aaaa02", "testnet_20251207_120000_aaaa01"]
    assert reg.get("nope") is None
    # it survives a new registry object (a restarted CLI)
    assert SqliteRegistry(tmp_path / "desk.sqlite").get("testnet_20251207_120000_aaaa02").status == "completed"


WORKER = textwrap.dedent("""
    import sys
    from peaktrade.desk.sqlite import SqliteDesk
    from peaktrade.runtime.registry import DeskRegistry, RunRecord
    reg = DeskRegistry(SqliteDesk(sys.argv[1]))
    me, n = sys.argv[2], int(sys.argv[3])
    won = 0
    for i in range(n):
        rid = f"testnet_20251207_120000_{me}{i:04x}"
        reg.add(RunRecord(rid, "testnet", "s", "BTC/EUR", "1m", "p", created_at=str(i)))
        reg.update(rid, only_if=("starting",), status="running", pid=i)
        # both processes race for the same shared run: exactly one transition may win
        won += reg.update("testnet_20251207_120000_shared", only_if=("starting",), status="stopping")
        reg.update("testnet_20251207_120000_shared", only_if=("stopping",), status="starting")
        reg.list(active_only=True, limit=5)
    print(won)
""")


def test_two_processes_at_once_never_corrupt_it(tmp_path):
    path = tmp_path / "var" / "desk.sqlite"
    SqliteRegistry(path).add(_rec("testnet_20251207_120000_shared"))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), tag, "150"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tag in ("aa", "bb")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    reg = SqliteRegistry(path)
    rows = reg.list()
    assert len(rows) == 301
    assert sum(r.status == "running" for r in rows) == 300
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    wins = sum(int(o[0].strip()) for o in outs)
    assert 1 <= wins <= 300  # each win was a real starting -> stopping transition, undone right after


def test_pid_reuse_is_not_mistaken_for_the_run():
    import os

    from peaktrade.runtime import procinfo

    me = os.getpid()
    assert procinfo.is_alive(me, procinfo.start_time(me))
    assert not procinfo.is_alive(me, procinfo.start_time(me) + 1)  # same pid, another process
    assert not procinfo.is_alive(None) and not procinfo.is_alive(2**22 + 11)
