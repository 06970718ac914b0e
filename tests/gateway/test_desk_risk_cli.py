"""Desk-wide risk through the CLI (DESIGN 5): the account's limits across sessions, concurrent and earlier.

* three shadow sessions one after another on one day: once the first reached the daily loss limit, the
  second and third start HALTED (every order blocked) — the halt is the account's, not the session's;
* two sessions at once on one account together never exceed ``max_total_exposure``;
* many processes reserving against one limit at once: exactly as many orders pass as fit.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from peaktrade.runtime import runlog
from tests.conftest import next_market_seed

from .conftest import init_root, session_wanting_orders

pytestmark = pytest.mark.slow


def test_a_halted_day_stays_halted_for_every_later_session(tmp_path):
    root = init_root(tmp_path / "desk", mode="paper", limits={"max_daily_loss_abs": "1.0"},
                     config={"position_fraction": "0.05"})
    code, _, ev, err = session_wanting_orders(root, "--mode", "shadow", "--profile", "quick_smoke", "--steps", "40")
    assert code == 0, err
    assert sum(e["orders_filled"] for e in ev) >= 1
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    halted_day, reason = con.execute(
        "SELECT halted_day, halted_reason FROM accounts WHERE account = 'paper'").fetchone()
    assert halted_day and reason.startswith("max_daily_loss_abs reached (")
    # halted at the first bar whose loss reached the limit (the day started at the starting cash), not later
    reached = float(reason.split("(", 1)[1].split(" >=")[0])
    first_breach = next(e for e in ev if 10_000.0 - e["equity"] >= 1.0)
    assert reached == pytest.approx(10_000.0 - first_breach["equity"], abs=0.01)
    assert all(e["orders_filled"] == 0 for e in ev if e["step"] > first_breach["step"])
    for _ in range(2):
        code, _, ev, err = session_wanting_orders(root, "--mode", "shadow", "--profile", "quick_smoke",
                                                  "--steps", "40")
        assert code == 0, err
        generated = [e for e in ev if e["orders_generated"]]
        assert all(e["orders_blocked"] == 1 and e["orders_filled"] == 0 for e in generated)
        assert all(e["risk_reasons"][0].startswith("daily_loss: the account is halted for today (max_daily_loss_abs")
                   for e in generated)
    # another account (testnet) is not halted by the paper account's day
    assert con.execute("SELECT halted_day FROM accounts WHERE account = 'testnet'").fetchone() in (None, (None,))


def _two_sessions_at_once(root):
    procs = [subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(root), "session", "run", "--mode",
                               "shadow", "--profile", "quick_smoke", "--steps", "120", "--symbol", sym, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for sym in ("BTC/EUR", "ETH/EUR")]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]


def test_two_concurrent_sessions_never_exceed_the_total_exposure_together(tmp_path):
    # the dummy market follows the wall clock: now and then it gives the strategies too little to do to reach
    # the limit, and a run that never came near it proves nothing; then both run again on the next seed. The
    # limit must hold on every run. A quiet market (volatility 1e-5 per tick): a held position's mark in the
    # ledger follows the market, so on a wild one the fill prices below would not be the marks the decisions
    # saw; on a quiet one they agree to well within the 1 % allowed.
    for attempt in range(6):
        root = init_root(tmp_path / f"desk-{attempt}", mode="paper", limits={"max_total_exposure": "700.0"},
                         config={"position_fraction": "0.05", "bar_seconds": "0.02", "volatility": "0.00001"})
        for _ in range(attempt):
            next_market_seed(root)
        _two_sessions_at_once(root)
        con = sqlite3.connect(root / "var" / "desk.sqlite")
        # in the order of the reservations (rowid: one write transaction each), each counted as filled at once:
        # the decision counted it at least that much (open orders count at their worst). Not by created_at:
        # an intent is stamped before its session waits for the write lock
        rows = con.execute("SELECT symbol, side, filled, avg_price FROM intents WHERE account = 'paper' "
                           "AND filled > 0 ORDER BY rowid").fetchall()
        con.close()
        pos: dict[str, float] = {}
        marks: dict[str, float] = {}
        worst = 0.0
        for sym, side, qty, price in rows:
            pos[sym] = pos.get(sym, 0.0) + (qty if side == "buy" else -qty)
            marks[sym] = price
            worst = max(worst, sum(abs(q) * marks[s] for s, q in pos.items()))
        assert worst <= 700.0 * 1.01  # the fill price differs from the decision's mark by the slippage only
        blocked = [r for run_dir in (root / "live_runs").iterdir() for e in runlog.read_events(run_dir)
                   for r in (e["risk_reasons"] or []) if e["orders_blocked"]]
        if rows and any(r.startswith("max_total_exposure exceeded") for r in blocked):
            return
    raise AssertionError("on 6 market seeds the two sessions never reached max_total_exposure together")


RESERVER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from peaktrade.gateway import Gateway, OrderRequest
    from peaktrade.gateway.venues import PaperVenue
    from peaktrade.policy.limits import RiskLimits
    from peaktrade.root import Root

    root, tag = Root(Path(sys.argv[1])), sys.argv[2]
    gw = Gateway(root, account="paper", venue=PaperVenue(0.0, 0.0), limits=RiskLimits(max_total_exposure=1000.0))
    passed = 0
    for i in range(40):
        out = gw.submit(OrderRequest(f"{tag}/EUR", "buy", 1.0, 100.0, f"proc-{tag}", f"bar-{i}"))
        passed += out.status == "filled"
    print(passed)
""")


def test_concurrent_reservations_pass_exactly_as_many_orders_as_fit(tmp_path):
    root = init_root(tmp_path / "desk")
    procs = [subprocess.Popen([sys.executable, "-c", RESERVER, str(root), tag], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for tag in ("AAA", "BBB", "CCC")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-800:] for o in outs]
    # 100 EUR each against 1,000 EUR total: ten pass, across all processes, whatever the interleaving
    assert sum(int(o[0]) for o in outs) == 10
