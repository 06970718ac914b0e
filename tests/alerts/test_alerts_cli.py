"""`peaktrade alerts run-rules` end to end on run logs written in the runtime's format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from peaktrade.cli import run
from peaktrade.monitor.synthetic import make_events, write_run

START = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
RUN = "shadow_20251207_120000_abc123"


def _run(deploy, *args):
    return run(["--root", str(deploy), "alerts", "run-rules", "--run-id", RUN, *args])


def _dropping_run(deploy, **kw):
    equity = [10_000.0] * 50 + [9_000.0] * 10  # 10 % drop inside the last hour
    write_run(deploy / "live_runs", RUN, make_events(60, start=START, equity=equity), **kw)


def test_critical_pnl_drop_exits_1_and_is_logged(deploy, capsys):
    _dropping_run(deploy)
    rc = _run(deploy, "--pnl-drop-threshold-pct", "5", "--now", "2025-12-07T13:00:00Z", "--json")
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert out["critical"] is True
    assert [(a["rule"], a["level"]) for a in out["alerts"]] == [("pnl_drop", "CRITICAL")]
    assert out["alerts"][0]["details"]["drop_pct"] == 10.0
    log = (deploy / "logs" / "alerts.log").read_text()
    assert "[CRITICAL] pnl_drop run=shadow_20251207_120000_abc123: PnL drop 10.00%" in log
    sent = {(d["channel"], d["status"]) for d in out["deliveries"]}
    # shipped config enables log + console; the policy's CRITICAL email/telegram/webhook are skipped
    assert {("log", "sent"), ("console", "sent"), ("email", "skipped")} <= sent


def test_no_critical_exits_0(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(60, start=START))
    rc = _run(deploy, "--now", "2025-12-07T12:59:30Z")
    out = capsys.readouterr().out
    assert rc == 0
    assert "OK: no alerts" in out
    assert not (deploy / "logs" / "alerts.log").exists()


def test_warning_only_exits_0(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(60, start=START))
    # last event 12:59; policy max 10 min -> 15 min silence is a WARNING
    rc = _run(deploy, "--now", "2025-12-07T13:14:00Z")
    out = capsys.readouterr().out
    assert rc == 0
    assert "WARNING  no_events: no events for 15 min since last event (max 10 min)" in out


def test_thresholds_come_from_policy_unless_given(deploy, capsys):
    _dropping_run(deploy)
    policy = deploy / "policies" / "alerts.yaml"
    policy.write_text(policy.read_text().replace("threshold_pct: 5.0", "threshold_pct: 20.0"))
    assert _run(deploy, "--now", "2025-12-07T13:00:00Z", "--no-notify") == 0
    assert _run(deploy, "--now", "2025-12-07T13:00:00Z", "--no-notify", "--pnl-drop-threshold-pct", "10") == 1
    capsys.readouterr()


def test_policy_disabled_rule_does_not_run(deploy, capsys):
    _dropping_run(deploy)
    policy = deploy / "policies" / "alerts.yaml"
    policy.write_text(policy.read_text().replace("  pnl_drop:\n    enabled: true", "  pnl_drop:\n    enabled: false"))
    assert _run(deploy, "--now", "2025-12-07T13:00:00Z", "--json", "--no-notify") == 0
    assert json.loads(capsys.readouterr().out)["rules"]["pnl_drop"] is None


def test_error_spike_from_jsonl_and_parquet(deploy, capsys):
    n = 20
    rejected = [0] * 15 + [3] * 5  # 15 errors in the last 10 minutes
    errors = [None] * 19 + ["ExchangeNetworkError: timeout"]
    events = make_events(n, start=START, orders_rejected=rejected, error=errors)
    # first 12 events compacted to Parquet; the JSONL still holds events 10.. (overlap must not double-count)
    write_run(deploy / "live_runs", RUN, events, parquet_upto=12, jsonl_from=10)
    rc = _run(deploy, "--now", "2025-12-07T12:19:00Z", "--json", "--no-notify", "--error-spike-max-errors", "5")
    out = json.loads(capsys.readouterr().out)
    assert out["events"] == 20
    spike = [a for a in out["alerts"] if a["rule"] == "error_spike"][0]
    assert spike["level"] == "CRITICAL" and spike["details"]["errors"] == 16
    assert rc == 1


def test_invalid_policy_is_exit_2_with_location(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(3, start=START))
    policy = deploy / "policies" / "alerts.yaml"
    policy.write_text(policy.read_text().replace("max_errors: 5 ", "max_errors: -1 "))
    assert _run(deploy) == 2
    err = capsys.readouterr().err
    assert "policies/alerts.yaml is invalid" in err
    assert "policies/alerts.yaml:14:5: $.rules.error_spike.max_errors: -1 is less than the minimum of 0" in err


def test_bad_input_is_exit_2_without_traceback(deploy, capsys):
    assert run(["--root", str(deploy), "alerts", "run-rules", "--run-id", "nope"]) == 2
    assert "unknown run id 'nope'" in capsys.readouterr().err
    write_run(deploy / "live_runs", RUN, make_events(3, start=START))
    assert _run(deploy, "--pnl-drop-threshold-pct", "-1") == 2
    assert _run(deploy, "--now", "yesterday") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "must be a positive number" in err


def test_run_without_events_uses_start_time(deploy, capsys):
    write_run(deploy / "live_runs", RUN, [], meta={"started_at": "2025-12-07T12:00:00Z"})
    rc = _run(deploy, "--now", "2025-12-07T12:30:00Z", "--json", "--no-notify")
    out = json.loads(capsys.readouterr().out)
    assert out["events"] == 0
    assert [(a["rule"], a["level"]) for a in out["alerts"]] == [("no_events", "CRITICAL")]
    assert rc == 1


def test_policy_validation_cache_never_hides_an_edit(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(3, start=START))
    assert _run(deploy, "--now", "2025-12-07T12:02:00Z") == 0
    assert (deploy / "var" / "cache" / "alerts-policy.json").is_file()
    policy = deploy / "policies" / "alerts.yaml"
    policy.write_text(policy.read_text().replace("window_minutes: 10", "window_minutes: ten"))
    assert _run(deploy) == 2
    assert "$.rules.error_spike.window_minutes: 'ten' is not of type 'number'" in capsys.readouterr().err


def test_no_events_is_not_evaluated_for_an_ended_run(deploy, capsys):
    write_run(deploy / "live_runs", RUN, make_events(3, start=START), meta={"ended_at": "2025-12-07T12:03:00Z"})
    rc = _run(deploy, "--now", "2025-12-08T12:00:00Z", "--json", "--no-notify")
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["alerts"] == []
    assert out["skipped"] == {"no_events": "run has ended (ended_at 2025-12-07T12:03:00Z)"}


def test_all_active_checks_every_active_run(deploy, capsys):
    other = "testnet_20251207_120000_def456"
    ended = "shadow_20251207_110000_0000aa"
    _dropping_run(deploy)
    write_run(deploy / "live_runs", other, make_events(60, start=START))
    write_run(deploy / "live_runs", ended, make_events(60, start=START, equity=[100.0] * 59 + [1.0]),
              meta={"ended_at": "2025-12-07T13:00:00Z"})
    rc = run(["--root", str(deploy), "alerts", "run-rules", "--all-active", "--now", "2025-12-07T13:00:00Z",
              "--json", "--no-notify"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert {r["run_id"]: r["critical"] for r in out} == {RUN: True, other: False}
    assert run(["--root", str(deploy), "alerts", "run-rules", "--all-active", "--run-id", RUN]) == 2
    assert run(["--root", str(deploy), "alerts", "run-rules"]) == 2
    assert "give either --run-id ID or --all-active" in capsys.readouterr().err


def test_a_crashed_run_pages_once_run_crashed_inhibits_no_events(deploy, capsys):
    # the runtime's read_meta reports a run whose process is gone as "crashed"
    write_run(deploy / "live_runs", RUN, make_events(3, start=START), meta={"status": "crashed"})
    rc = _run(deploy, "--now", "2025-12-07T13:00:00Z", "--json", "--no-notify")
    out = json.loads(capsys.readouterr().out)
    # its silence has one cause, the crash: run_crashed pages, no_events says why it stays quiet
    assert rc == 1 and [(a["rule"], a["level"]) for a in out["alerts"]] == [("run_crashed", "CRITICAL")]
    assert out["skipped"] == {"no_events": "inhibited: run_crashed is firing for this run (crashed)"}
    # a failed run raises no run_crashed: its silence is the alert
    write_run(deploy / "live_runs", RUN, make_events(3, start=START), meta={"status": "failed"})
    _run(deploy, "--now", "2025-12-07T13:00:00Z", "--json", "--no-notify")
    out = json.loads(capsys.readouterr().out)
    assert [(a["rule"], a["level"]) for a in out["alerts"]] == [("no_events", "CRITICAL")]
