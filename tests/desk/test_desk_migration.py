"""A desk of the previous release is migrated into var/desk.sqlite on first use (DESIGN 11).

It kept its runs in var/runs.sqlite, its kill switch in var/kill-switch.json and the use of an approval in
the request file (``used_by``). After the first command: the runs are listed, an engaged switch is still
engaged (and blocks orders), the approval stays used, and the old files are kept as ``*.migrated``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from peaktrade.desk import open_desk, reset_cache
from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.root import Root
from tests.gateway.conftest import cli, init_root

OLD_RUNS = """CREATE TABLE runs (run_id TEXT PRIMARY KEY, mode TEXT, strategy TEXT, symbol TEXT, timeframe TEXT,
  profile TEXT, status TEXT, pid INTEGER, pid_start INTEGER, created_at TEXT, started_at TEXT, ended_at TEXT,
  notes TEXT, operator TEXT, status_note TEXT)"""


def _legacy(root_dir):
    var = root_dir / "var"
    for f in var.glob("desk.*"):
        f.unlink()
    con = sqlite3.connect(var / "runs.sqlite")
    con.execute(OLD_RUNS)
    con.execute("INSERT INTO runs VALUES ('testnet_20251201_100000_aaaaaa', 'testnet', 'ma_crossover', 'BTC/EUR', "
                "'1m', 'standard', 'completed', 123, 456, '2025-12-01T10:00:00Z', '2025-12-01T10:00:01Z', "
                "'2025-12-01T11:00:00Z', 'old run', 'bob', '')")
    con.commit()
    con.close()
    (var / "kill-switch.json").write_text(json.dumps({
        "state": "KILLED", "reason": "drill before the upgrade", "since": "2025-12-01T12:00:00Z", "by": "alice",
        "engaged_since": "2025-12-01T12:00:00Z"}))
    (var / "approvals").mkdir(exist_ok=True)
    (var / "approvals" / "rq-old.json").write_text(json.dumps({
        "request": {"id": "rq-old"}, "signatures": [], "used_by": {"by": "20251201-120000-abcdef",
                                                                 "at": "2025-12-01T12:00:00Z"}}))


def test_an_older_desk_is_migrated_on_first_use(tmp_path):
    root_dir = init_root(tmp_path / "desk")
    _legacy(root_dir)
    reset_cache()
    out = cli(root_dir, "runs", "status", "--json")
    assert out.returncode == 0, out.stderr
    assert [r["run_id"] for r in json.loads(out.stdout)] == ["testnet_20251201_100000_aaaaaa"]
    root = Root.resolve(root_dir)
    status = read_kill_switch(root)
    assert (status.word, status.reason, status.by) == ("engaged", "drill before the upgrade", "alice")
    assert open_desk(root).approval_use("rq-old") == {"by": "20251201-120000-abcdef", "at": "2025-12-01T12:00:00Z"}
    assert (root_dir / "var" / "runs.sqlite.migrated").exists()
    assert (root_dir / "var" / "kill-switch.json.migrated").exists()
    assert not (root_dir / "var" / "runs.sqlite").exists()
    # the migrated engagement still blocks orders, and is released only with an approval for it
    smoke = cli(root_dir, "smoke")
    assert smoke.returncode == 3 and "kill switch is engaged" in smoke.stderr
    reset_cache()


def test_a_second_first_use_does_not_migrate_again(tmp_path):
    root_dir = init_root(tmp_path / "desk")
    _legacy(root_dir)
    reset_cache()
    assert cli(root_dir, "runs", "status").returncode == 0
    assert cli(root_dir, "runs", "status").returncode == 0
    con = sqlite3.connect(root_dir / "var" / "desk.sqlite")
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)


def _first_reader(root_path: str, barrier, out) -> None:
    reset_cache()
    barrier.wait()
    status = read_kill_switch(Root(Path(root_path)))
    out.put((status.state, status.readable, status.reason))


def _concurrent_first_use(root_path, n: int) -> list[tuple]:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_first_reader, args=(str(root_path), barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    return results


def test_processes_opening_a_fresh_desk_at_once_all_see_a_complete_store(tmp_path):
    """The first use creates the store while others open it: none may see it half made (no kill-switch row
    reads "unreadable, failing closed"; four operators starting runs at once were refused that way)."""
    for rnd in range(15):
        root_dir = tmp_path / f"fresh{rnd}"
        (root_dir / "var").mkdir(parents=True)
        results = _concurrent_first_use(root_dir, 6)
        assert results == [("ACTIVE", True, None)] * 6, results
        assert sorted(p.name for p in (root_dir / "var").iterdir()
                      if p.name.startswith(("desk", ".desk"))) in (
            ["desk.created", "desk.sqlite", "desk.sqlite-shm", "desk.sqlite-wal", "desk.sqlite.lock"],
            ["desk.created", "desk.sqlite", "desk.sqlite.lock"])


def test_processes_opening_an_older_desk_at_once_never_see_the_switch_released(tmp_path):
    """The engaged switch of an older desk is in the new store before anyone can read the store."""
    for rnd in range(8):
        root_dir = init_root(tmp_path / f"old{rnd}") if rnd == 0 else _copy_init(tmp_path, rnd)
        _legacy(root_dir)
        results = _concurrent_first_use(root_dir, 5)
        assert [r[0] for r in results] == ["KILLED"] * 5 and all(r[1] for r in results), results
        assert (root_dir / "var" / "kill-switch.json.migrated").exists()


def _copy_init(tmp_path, rnd):
    import shutil

    shutil.copytree(tmp_path / "old0", tmp_path / f"old{rnd}", ignore=shutil.ignore_patterns("desk.*", "*.migrated"))
    return tmp_path / f"old{rnd}"
