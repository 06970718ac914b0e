"""Issue 11, items 4 and 5 (the rule part): orders held back by an engaged kill switch are no errors,
and a crashed run fires run_crashed CRITICAL until it is acknowledged with `peaktrade runs ack`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from peaktrade.cli import run
from peaktrade.monitor.synthetic import make_events, write_run

START = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
RUN = "testnet_20251207_120000_abc123"
NOW = "2025-12-07T12:30:00Z"


def _rules(deploy, capsys, *args):
    rc = run(["--root", str(deploy), "alerts", "run-rules", "--now", NOW, "--json", "--no-notify",
              "--error-spike-max-errors", "5", "--error-spike-window-minutes", "60", *args])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("parquet_upto", [0, 20])  # JSONL only, and Parquet + JSONL tail
def test_orders_held_back_by_the_kill_switch_are_not_errors(deploy, capsys, parquet_upto):
    held = [["kill switch KILLED"] if i % 2 else [] for i in range(30)]
    write_run(deploy / "live_runs", RUN, make_events(30, start=START, orders_blocked=[i % 2 for i in range(30)],
                                                     risk_reasons=held), parquet_upto=parquet_upto)
    rc, out = _rules(deploy, capsys, "--run-id", RUN)
    assert rc == 0 and [a["rule"] for a in out["alerts"] if a["rule"] == "error_spike"] == []


@pytest.mark.parametrize("parquet_upto", [0, 20])
def test_orders_blocked_by_risk_limits_still_are(deploy, capsys, parquet_upto):
    limits = [["max_order_notional exceeded (500.00 > 100.00)"] if i % 2 else [] for i in range(30)]
    write_run(deploy / "live_runs", RUN, make_events(30, start=START, orders_blocked=[i % 2 for i in range(30)],
                                                     risk_reasons=limits), parquet_upto=parquet_upto)
    rc, out = _rules(deploy, capsys, "--run-id", RUN)
    [spike] = [a for a in out["alerts"] if a["rule"] == "error_spike"]
    assert rc == 1 and spike["level"] == "CRITICAL" and spike["details"]["orders_blocked"] == 15


def test_run_crashed_fires_until_acknowledged(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(30, start=START),
              meta={"status": "crashed", "status_note": "process 4242 ended without a clean shutdown"})
    rc, out = _rules(deploy, capsys, "--all-active")
    assert rc == 1 and [r["run_id"] for r in out] == [RUN]  # crashed runs are checked by --all-active
    crashed = [a for a in out[0]["alerts"] if a["rule"] == "run_crashed"]
    assert crashed[0]["level"] == "CRITICAL" and "process 4242 ended without a clean shutdown" in crashed[0]["message"]
    assert f"peaktrade runs ack --run-id {RUN} --note WHY" in crashed[0]["message"]

    overview = run(["--root", str(deploy), "monitor", "overview"])
    text = capsys.readouterr().out
    assert overview == 0 and RUN in text and "CRASHED" in text
    assert f"! run {RUN} CRASHED (process 4242 ended without a clean shutdown" in text

    assert run(["--root", str(deploy), "runs", "ack", "--run-id", RUN, "--note", "host rebooted; no orders open",
                "--operator", "bob"]) == 0
    assert f"acknowledged: run {RUN} (crashed) by bob" in capsys.readouterr().out
    ack = json.loads((deploy / "live_runs" / RUN / "ack.json").read_text())
    assert ack["by"] == "bob" and ack["note"] == "host rebooted; no orders open"

    rc, out = _rules(deploy, capsys, "--run-id", RUN)
    assert "run_crashed" not in [a["rule"] for a in out["alerts"]]
    assert run(["--root", str(deploy), "monitor", "overview"]) == 0
    assert "no active runs" in capsys.readouterr().out
    rc = run(["--root", str(deploy), "alerts", "run-rules", "--all-active", "--now", NOW, "--no-notify"])
    assert rc == 0 and "no active runs" in capsys.readouterr().out


def test_ack_refuses_a_run_that_did_not_crash(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(3, start=START), meta={"status": "completed"})
    assert run(["--root", str(deploy), "runs", "ack", "--run-id", RUN, "--note", "x"]) == 2
    assert "is completed, not crashed, lost, failed or killed: nothing to acknowledge" in capsys.readouterr().err
