"""The kill switch in the desk state (DESIGN 5): an engage always wins, and no damage releases it.

* 100 rounds of a release (approved for the current engagement) racing an engage, in two processes:
  every round ends engaged (the release applies only to the engagement it was approved for);
* deleting the store, deleting its row, an unknown state, a symlink or a fresh store swapped in: the
  switch reads engaged and orders stay blocked, through the CLI.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from peaktrade.clock import SYSTEM_CLOCK
from peaktrade.desk import reset_cache
from peaktrade.root import Root

from .conftest import cli, init_root, session_wanting_orders


def _releaser(root_path: str, barrier, out) -> None:
    from peaktrade.desk.killswitch import read_kill_switch, release
    from peaktrade.errors import PeakTradeError
    from peaktrade.policy.records import ApprovalRecord, Signer, remember

    reset_cache()
    root = Root(Path(root_path))
    current = read_kill_switch(root)
    now = SYSTEM_CLOCK.now()
    record = remember(ApprovalRecord("kill_switch_release", f"rq-{current.engagement}",
                                     {"kind": "kill_switch", "engaged_since": current.engaged_since}, "carol",
                                     [Signer("alice", ["owner"], "SHA256:a")], now + timedelta(hours=1), now))
    barrier.wait()
    try:
        release(root, "alice", record)
        out.put("released")
    except PeakTradeError as exc:
        out.put(f"refused: {exc.message}")


def _engager(root_path: str, barrier, out) -> None:
    from peaktrade.desk.killswitch import engage

    reset_cache()
    barrier.wait()
    engage(Root(Path(root_path)), "again", "bob")
    out.put("engaged")


@pytest.mark.slow
def test_a_release_racing_an_engage_never_undoes_the_new_engagement(tmp_path):
    from peaktrade.desk.killswitch import engage, read_kill_switch

    root = Root.resolve(init_root(tmp_path / "desk"))
    engage(root, "first", "bob")
    ctx = mp.get_context("fork")
    outcomes = {"released": 0, "refused": 0}
    for _ in range(100):
        barrier, out = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_releaser, args=(str(root.path), barrier, out)),
                 ctx.Process(target=_engager, args=(str(root.path), barrier, out))]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        results = sorted(out.get(timeout=5) for _ in procs)
        reset_cache()
        status = read_kill_switch(root)
        assert status.state == "KILLED", (results, status)
        outcomes["released" if "released" in results else "refused"] += 1
        if status.engagement % 10 == 0:  # the store stays healthy under the races
            con = sqlite3.connect(root.var_dir / "desk.sqlite")
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            con.close()
    # both orders of events happened (else the race was not a race)
    assert outcomes["refused"] >= 1 and outcomes["released"] + outcomes["refused"] == 100


def _session_orders(root: Path) -> tuple[int, list[dict], str]:
    code, _, events, err = session_wanting_orders(root, "--mode", "testnet", "--profile", "quick_smoke",
                                                  "--steps", "30")
    return code, events, err


def _damage_delete(root: Path) -> None:
    for f in (root / "var").glob("desk.sqlite*"):
        f.unlink()


def _damage_row(root: Path) -> None:
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    con.execute("DELETE FROM kill_switch")
    con.commit()
    con.close()


def _damage_state(root: Path) -> None:
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    con.execute("UPDATE kill_switch SET state = 'ACTIVEISH'")
    con.commit()
    con.close()


def _damage_symlink(root: Path) -> None:
    desk = root / "var" / "desk.sqlite"
    aside = root / "var" / "elsewhere.sqlite"
    shutil.copy(desk, aside)
    for f in (root / "var").glob("desk.sqlite*"):
        f.unlink()
    os.symlink(aside, desk)


def _damage_dangling_symlink(root: Path) -> None:
    _damage_delete(root)
    os.symlink(root / "var" / "nowhere.sqlite", root / "var" / "desk.sqlite")


def _damage_swap(root: Path) -> None:
    """A fresh, valid desk (kill switch released) made elsewhere and copied over this desk's store."""
    other = init_root(root.parent / "other")
    _damage_delete(root)
    shutil.copy(other / "var" / "desk.sqlite", root / "var" / "desk.sqlite")


@pytest.mark.slow
@pytest.mark.parametrize("damage", [_damage_delete, _damage_row, _damage_state, _damage_symlink,
                                    _damage_dangling_symlink, _damage_swap],
                         ids=["deleted", "row-deleted", "unknown-state", "symlink", "dangling-symlink", "swapped"])
def test_damaging_the_state_never_releases_an_engaged_switch(tmp_path, damage):
    root = init_root(tmp_path / "desk")
    assert cli(root, "kill-switch", "engage", "--reason", "drill", "--operator", "bob").returncode == 0
    damage(root)
    status = cli(root, "kill-switch", "status")
    assert status.returncode == 0 and status.stdout.startswith("Kill switch: engaged"), status.stdout + status.stderr
    code, events, err = _session_orders(root)
    if code == 0:  # the session ran: every order it wanted was blocked
        wanted = [e for e in events if e["orders_generated"]]
        assert wanted and all(e["orders_blocked"] and not e["orders_filled"] for e in wanted)
    else:  # the session could not even register: refused, one clear line, no traceback
        assert code in (1, 3) and "Traceback" not in err and "desk state" in err
    smoke = cli(root, "smoke")
    assert smoke.returncode in (1, 3) and "Traceback" not in smoke.stderr
