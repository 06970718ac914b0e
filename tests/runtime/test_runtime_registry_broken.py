"""A desk state (run registry) that cannot be read: a clear error everywhere, and the emergency path still works.

Acceptance finding (then var/runs.sqlite, now var/desk.sqlite): with garbage in it, `runs status` /
`runs stop --all` were internal
errors and `play shutdown-emergency` stopped at force-kill — no orders cancelled, no backup, no incident.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from peaktrade.desk.sqlite import SqliteDesk
from peaktrade.errors import PeakTradeError
from peaktrade.runtime import procinfo, runlog
from peaktrade.runtime.orchestrator import Orchestrator
from peaktrade.runtime.registry import DeskRegistry, RegistryUnavailable, RunRecord

from .conftest import make_root, peaktrade

pytestmark = pytest.mark.slow


def _wait(pred, timeout=30.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _corrupt(root: Path) -> Path:
    """Garbage over the registry, as in the finding (its WAL files gone with it)."""
    reg = root / "var" / "desk.sqlite"
    for extra in (reg.with_name("desk.sqlite-wal"), reg.with_name("desk.sqlite-shm")):
        extra.unlink(missing_ok=True)
    reg.write_text("garbage\n")
    return reg


def _truncate(root: Path) -> Path:
    """A registry with rows whose file was cut short (a full disk, a bad copy)."""
    reg = root / "var" / "desk.sqlite"
    r = DeskRegistry(SqliteDesk(reg))
    for i in range(300):
        r.add(RunRecord(f"testnet_20251207_120000_{i:06x}", "testnet", "ma_crossover", "BTC/EUR", "1m", "standard",
                        status="completed", created_at="2025-12-07T12:00:00Z", notes="x" * 200))
    con = sqlite3.connect(reg)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    for extra in (reg.with_name("desk.sqlite-wal"), reg.with_name("desk.sqlite-shm")):
        extra.unlink(missing_ok=True)
    data = reg.read_bytes()
    reg.write_bytes(data[: len(data) // 3])
    return reg


def _assert_clear_error(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 1, out.stdout + out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert "var/desk.sqlite cannot be read" in out.stderr
    assert "every order path fails closed" in out.stderr and "peaktrade desk migrate --recreate" in out.stderr


@pytest.mark.parametrize("damage", [_corrupt, _truncate], ids=["garbage", "truncated"])
def test_an_unreadable_registry_is_one_clear_error_and_moving_it_aside_recovers(tmp_path, damage):
    root = make_root(tmp_path / "d")
    out = peaktrade(root, "session", "run", "--mode", "testnet", "--profile", "quick_smoke", "--json")
    assert out.returncode == 0, out.stderr
    run_id = json.loads(out.stdout[out.stdout.index("{"):])["run_id"]
    damage(root)
    for args in (("runs", "status"), ("runs", "status", "--json"), ("runs", "status", "--run-id", run_id),
                 ("runs", "stop", "--all"), ("runs", "stop", "--run-id", run_id),
                 ("session", "run", "--mode", "testnet", "--profile", "quick_smoke")):
        _assert_clear_error(peaktrade(root, *args))
    # what reads only the run's own files keeps working meanwhile
    for args in (("experiments", "list", "--json"), ("runs", "tail", "--run-id", run_id, "--limit", "2"),
                 ("monitor", "run", "--run-id", run_id)):
        out = peaktrade(root, *args)
        assert out.returncode == 0 and run_id in out.stdout, out.stderr
    # the advice works: a recreated desk state, with the kill switch engaged (its state was lost)
    out = peaktrade(root, "desk", "migrate", "--recreate")
    assert out.returncode == 0, out.stderr
    out = peaktrade(root, "runs", "status", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    assert "engaged" in peaktrade(root, "kill-switch", "status").stdout
    assert list((root / "var").glob("desk.sqlite.lost-*"))  # the damaged file is kept for analysis
    # the run's own files were never touched
    assert runlog.read_meta(root / "live_runs" / run_id)["status"] == "completed"
    listed = json.loads(peaktrade(root, "experiments", "list", "--json").stdout)
    assert [r["run_id"] for r in listed] == [run_id]


def test_registry_errors_are_peaktrade_errors_naming_the_file(tmp_path):
    from peaktrade.desk import open_desk, reset_cache
    from peaktrade.desk.killswitch import read_kill_switch
    from peaktrade.root import Root

    path = tmp_path / "var" / "desk.sqlite"
    path.parent.mkdir()
    path.write_text("garbage\n")
    with pytest.raises(RegistryUnavailable) as exc:
        SqliteDesk(path)
    assert isinstance(exc.value, PeakTradeError) and exc.value.exit_code == 1
    assert "var/desk.sqlite" in exc.value.message
    # a desk that was fine when opened and is replaced afterwards: every reader sees the new (broken) file
    root = Root.resolve(make_root(tmp_path / "d"))
    reg = DeskRegistry(open_desk(root))
    reg.add(RunRecord("testnet_20251207_120000_aaaaaa", "testnet", "s", "BTC/EUR", "1m", "p"))
    desk = root.path / "var" / "desk.sqlite"
    desk.unlink()
    desk.write_text("garbage\n")
    with pytest.raises(RegistryUnavailable):
        open_desk(root)
    status = read_kill_switch(root)
    assert status.state == "KILLED" and not status.readable and "var/desk.sqlite" in status.reason
    reset_cache()


def _start_worker_elsewhere(tmp_path: Path):
    """A run of ANOTHER deployment root on the same machine: the fallback must leave it alone."""
    from peaktrade.root import Root

    other = Root.resolve(make_root(tmp_path / "other"))
    rec = Orchestrator(other).start("testnet", profile="standard", check=False)
    return other, rec


def test_emergency_play_kills_this_roots_workers_without_the_registry(tmp_path):
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    orch = Orchestrator(root)
    recs = [orch.start("testnet", profile="standard", check=False) for _ in range(2)]
    other, other_rec = _start_worker_elsewhere(tmp_path)
    try:
        for r in (*recs, other_rec):
            base = other if r is other_rec else root
            _wait(lambda r=r, base=base: runlog.count_events(runlog.run_dir(base, r.run_id)) >= 1, what="events")
        _corrupt(root.path)
        out = subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root.path), "play",
                              "shutdown-emergency", "--yes", "--answer", "liquidate-decide=keep"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
        text = out.stdout + out.stderr
        assert "internal error" not in text and "Traceback" not in text, text
        # (b) the force-kill used the fallback, said so, and killed exactly this root's workers
        assert "succeeded  force-kill" in out.stdout, text
        assert "0 registered run(s) and 2 other process(es) signalled; none left" in out.stdout, text
        assert "registry unusable (the desk state var/desk.sqlite cannot be read" in out.stdout, text
        assert "succeeded  verify-killed" in out.stdout, text
        for r in recs:
            _wait(lambda r=r: not procinfo.is_alive(r.pid, r.pid_start), what=f"{r.run_id} gone")
            meta = runlog.read_meta(runlog.run_dir(root, r.run_id))
            assert meta["status"] in ("killed", "crashed")  # SIGKILLed by the desk pattern: no clean shutdown
        assert procinfo.is_alive(other_rec.pid, other_rec.pid_start)
        # (c) the rest of the emergency path ran: orders, backup, record, incident report
        for step in ("cancel-orders", "open-orders", "backup", "record", "incident"):
            assert f"succeeded  {step} " in out.stdout, text
        assert out.returncode == 0, text
        [backup] = list((root.path / "backups").glob("emergency_*"))
        assert (backup / "logs").is_dir()
        [report] = list((root.path / "reports" / "incidents").glob("*shutdown-emergency*.md"))
        assert "high" in report.read_text()
        assert "Emergency shutdown" in (root.path / "logs" / "operations.log").read_text()
        assert "registry is unusable" in (root.path / "logs" / "peaktrade.log").read_text()
        # and the registry is still refused with the clear message afterwards (nothing was papered over)
        _assert_clear_error(peaktrade(root.path, "runs", "status"))
    finally:
        Orchestrator(other).stop(other_rec.run_id, timeout_s=30)
        for r in recs:  # only if the test failed before the kill
            if procinfo.is_alive(r.pid, r.pid_start):
                os.kill(r.pid, 9)


def test_force_kill_also_kills_workers_the_registry_does_not_list(tmp_path):
    """A worker the registry does not list (its row lost) while it still ran: force-kill still finds it."""
    from peaktrade.actions import registry as actions
    from peaktrade.actions.registry import ActionContext
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    rec = Orchestrator(root).start("testnet", profile="standard", check=False)
    try:
        _wait(lambda: runlog.count_events(runlog.run_dir(root, rec.run_id)) >= 1, what="events")
        con = sqlite3.connect(root.path / "var" / "desk.sqlite")
        con.execute("DELETE FROM runs WHERE run_id = ?", (rec.run_id,))
        con.commit()
        con.close()
        res = actions.get("runs.stop_all").fn(ActionContext(root), {"force": True})
        assert res.ok and "1 run(s) force-killed (1 not in the registry" in res.summary
        assert res.data["strays"] == [rec.run_id] and res.data["fallback"] is False
        _wait(lambda: not procinfo.is_alive(rec.pid, rec.pid_start), what="worker gone")
        assert runlog.read_meta(runlog.run_dir(root, rec.run_id))["status"] == "killed"
    finally:
        if procinfo.is_alive(rec.pid, rec.pid_start):
            os.kill(rec.pid, 9)


def test_the_emergency_playbook_goes_on_after_a_failed_kill(tmp_path):
    """Runbook 5.3: kill, verify, orders, backup, record, incident — one failing never skips the others."""
    from peaktrade.playbook.model import load_playbook
    from peaktrade.root import Root

    root = Root.resolve(make_root(tmp_path / "d"))
    pb = load_playbook(root, "shutdown-emergency")
    steps = {s.id: s for s in pb.steps}
    for sid in ("force-kill", "verify-killed", "cancel-orders", "open-orders", "backup", "record"):
        assert steps[sid].on_failure == "continue", sid
    ids = [s.id for s in pb.steps]
    assert ids.index("force-kill") < ids.index("cancel-orders") < ids.index("backup") < ids.index("incident")
    out = peaktrade(root.path, "validate")
    assert out.returncode == 0, out.stdout + out.stderr
