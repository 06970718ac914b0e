"""A desk of the previous release is migrated into var/desk.sqlite on first use (DESIGN 11).

It kept its runs in var/runs.sqlite, its kill switch in var/kill-switch.json and the use of an approval in
the request file (``used_by``). After the first command: the runs are listed, an engaged switch is still
engaged (and blocks orders), the approval stays used, and the old files are kept as ``*.migrated``."""

from __future__ import annotations

import json
import sqlite3

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
