"""The two incident playbooks (runbooks 9, 10) end to end, and the actions behind them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from peaktrade.actions.registry import ActionContext, load_all
from peaktrade.cli import run
from peaktrade.clock import FakeClock
from peaktrade.monitor.synthetic import iso, make_events, write_run
from peaktrade.root import Root


def _finished(deploy):
    [play] = list((deploy / "var" / "plays").iterdir())
    out = {}
    for line in (play / "journal.jsonl").read_text().splitlines():
        rec = json.loads(line)
        step = rec.get("step") or rec.get("step_id")
        if step and rec.get("status"):
            out[step] = rec
    return out


def test_pnl_divergence_play_on_a_real_run(deploy, capsys):
    assert run(["--root", str(deploy), "session", "run", "--mode", "shadow", "--steps", "30"]) == 0
    [d] = list((deploy / "live_runs").iterdir())
    capsys.readouterr()
    rc = run(["--root", str(deploy), "play", "incident-pnl-divergence", "-p", f"run_id={d.name}",  # mode: shadow_…
              "--yes", "--answer", "cause=data", "--operator", "alice"])
    out = capsys.readouterr().out
    assert rc == 0, out
    steps = _finished(deploy)
    assert steps["pause"]["status"] == "skipped"  # shadow keeps running
    assert steps["compare"]["status"] == "succeeded"
    assert "divergence 0.0 % (threshold 30 %): consistent" in steps["compare"]["summary"]
    assert steps["data-gaps"]["status"] == "succeeded" and steps["fix-slippage"]["status"] == "skipped"
    assert steps["owner-approval"]["status"] == "skipped"
    assert list((deploy / "reports" / "checklists").glob("*_incident-pnl-divergence_*.md"))


def test_pnl_divergence_play_in_live_needs_the_owner(deploy, capsys):
    # the mode comes from the run id (issue 11): a live run's play pauses it and never restarts without the owner
    live = "live_20251207_120000_abc123"
    write_run(deploy / "live_runs", live, make_events(25, start=datetime(2025, 12, 7, 12, tzinfo=UTC)),
              meta={"mode": "live", "status": "stopped", "ended_at": "2025-12-07T12:30:00Z"})
    rc = run(["--root", str(deploy), "play", "incident-pnl-divergence", "-p", f"run_id={live}",
              "--yes", "--answer", "cause=fee"])
    capsys.readouterr()
    assert rc != 0
    steps = _finished(deploy)
    assert steps["pause"]["status"] != "skipped"  # live: the pause is attempted
    assert "owner-approval" not in steps or steps["owner-approval"]["status"] in ("blocked", "failed")
    assert "restart" not in steps or steps["restart"]["status"] != "succeeded"


def test_data_gap_play_finds_the_window_and_backfills(deploy, capsys):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=30)
    events = make_events(10, start=start)
    for i, e in enumerate(events):
        e["ts_bar"] = iso(start + timedelta(minutes=i if i < 5 else i + 4))
        e["step"] = i + 1
    run_id = f"shadow_{start:%Y%m%d_%H%M%S}_00ab00"
    write_run(deploy / "live_runs", run_id, events, meta={"ended_at": iso(now)})
    rc = run(["--root", str(deploy), "play", "incident-data-gap", "-p", f"run_id={run_id}", "-p", "mode=paper",
              "--yes", "--answer", "decision=wait"])
    out = capsys.readouterr().out
    assert rc == 0, out
    steps = _finished(deploy)
    assert steps["gap-window"]["summary"].startswith(f"run {run_id}: 1 gap(s), 4 candle(s) missing")
    assert steps["local-data"]["status"] == "failed"  # nothing cached yet: a finding, the play goes on
    assert steps["backfill"]["status"] == "succeeded" and steps["verify-data"]["status"] == "succeeded"
    assert (deploy / "data" / "dummy" / "BTC-EUR_1m.csv").is_file()


def test_actions_are_registered_with_their_effects():
    reg = load_all()
    effects = {n: reg[n].effect for n in ("alerts.run_rules", "backtest.run", "divergence.compare",
                                           "divergence.slippage", "data.find_gaps", "data.backfill")}
    assert effects == {"alerts.run_rules": "read", "backtest.run": "read", "divergence.compare": "read",
                       "divergence.slippage": "read", "data.find_gaps": "read", "data.backfill": "act"}


def test_alerts_action_fails_on_critical(deploy):
    start = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
    run_id = "shadow_20251207_120000_abc123"
    write_run(deploy / "live_runs", run_id, make_events(60, start=start, equity=[100.0] * 59 + [80.0]))
    spec = load_all()["alerts.run_rules"]
    ctx = ActionContext(Root(deploy), clock=FakeClock(datetime(2025, 12, 7, 13, tzinfo=UTC)), echo=lambda s: None)
    res = spec.fn(ctx, {"run_id": run_id, "notify": False})
    assert res.ok is False and res.summary == f"alerts on {run_id}: CRITICAL (1 alert(s))"
    assert res.data["alerts"][0]["rule"] == "pnl_drop"
