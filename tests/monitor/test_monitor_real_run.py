"""The monitor and the alerts on a run produced by the real runtime (dummy exchange, offline)."""

from __future__ import annotations

import json

import pytest

from peaktrade.cli import run
from peaktrade.root import Root


@pytest.fixture
def real_run(deploy, capsys):
    cfg = deploy / "config" / "config.toml"  # shadow runs need environment.mode = "paper"
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "paper"', 1))
    assert run(["--root", str(deploy), "session", "run", "--mode", "shadow", "--steps", "25"]) == 0
    capsys.readouterr()
    [d] = list((deploy / "live_runs").iterdir())
    return deploy, d


def test_monitor_run_matches_the_runtime_reader(real_run, capsys):
    from peaktrade.runtime.runlog import read_events

    deploy, d = real_run
    events = read_events(d)
    assert run(["--root", str(deploy), "monitor", "run", "--run-id", d.name, "--json", "--last", "3"]) == 0
    detail = json.loads(capsys.readouterr().out)
    m = detail["metrics"]
    last = events[-1]
    assert m["events"] == len(events) and m["equity"] == last["equity"]
    # the book's invariant: equity = starting cash + realized + unrealized
    assert m["pnl"] == pytest.approx(last["realized_pnl"] + last["unrealized_pnl"], abs=1e-6)
    assert [e["step"] for e in detail["last_events"]] == [e["step"] for e in events[-3:]]
    assert detail["run"]["active"] is False


def test_overview_and_alerts_on_a_real_run(real_run, capsys):
    from peaktrade.monitor.views import overview

    deploy, d = real_run
    [row] = overview(Root(deploy), include_inactive=True)
    assert row["run_id"] == d.name and row["events"] == 25
    assert run(["--root", str(deploy), "alerts", "run-rules", "--run-id", d.name, "--json", "--no-notify",
                "--pnl-drop-threshold-pct", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["events"] == 25 and out["critical"] is False
