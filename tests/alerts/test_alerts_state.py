"""Issue 11 item 5: alerts with state (DESIGN 6), counted at a real webhook receiver on 127.0.0.1.

Fire, escalate, repeat after ``repeat_interval``, resolve: exactly one delivery each; cron runs on the same
CRITICAL page once; ``alerts list`` and ``alerts watch --once`` through the CLI.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from peaktrade.alerts.engine import run_rules
from peaktrade.alerts.policy import load_alerts_policy, resolve_settings
from peaktrade.alerts.rules import CRITICAL
from peaktrade.cli import run
from peaktrade.clock import FakeClock
from peaktrade.monitor.synthetic import iso, make_events, write_run
from peaktrade.root import Root

START = datetime(2025, 12, 7, 12, 0, tzinfo=UTC)
RUN = "shadow_20251207_120000_abc123"


def _hook(http_server) -> str:
    host, port = http_server.server_address
    return f"http://{host}:{port}/hook"


def _policy(deploy, *, repeat: int = 20) -> None:
    path = deploy / "policies" / "alerts.yaml"
    text = path.read_text().replace("repeat_interval_minutes: 60", f"repeat_interval_minutes: {repeat}")
    path.write_text(text.replace("WARNING: [log, console]", "WARNING: [log, webhook]"))


def _config(deploy, http_server) -> None:
    path = deploy / "config" / "config.toml"
    text = path.read_text().replace('enabled = ["log", "console"]', 'enabled = ["log", "webhook"]', 1)
    path.write_text(text.replace('[notifiers.webhook]\nurl = ""', f'[notifiers.webhook]\nurl = "{_hook(http_server)}"'))


def _deliveries(http_server) -> list[tuple[str, str, str]]:
    return [(r["body"]["alert"]["rule"], r["body"]["alert"]["level"], r["body"]["alert"]["status"])
            for r in http_server.requests]


def test_scripted_hour_fire_escalate_repeat_resolve(deploy, http_server):
    """no_events (max 10 min, repeat 20 min) evaluated every 5 min from 12:00 to 13:00; events stop at
    12:00 and resume at 12:50. Expected: WARNING at 12:15, CRITICAL at 12:25 (escalation), repeat at 12:45,
    resolved at 12:50 — four deliveries, nothing else."""
    _policy(deploy, repeat=20)
    live = deploy / "live_runs"
    write_run(live, RUN, make_events(1, start=START), meta={"status": "running"})
    root = Root(deploy)
    settings = resolve_settings(load_alerts_policy(root))
    notifiers = {"enabled": ["log", "webhook"], "webhook": {"url": _hook(http_server), "timeout_s": 5}}
    clock = FakeClock(START)
    seen: dict[str, list[str]] = {}
    for minute in range(0, 65, 5):
        _set(clock, START + timedelta(minutes=minute))
        if minute == 50:  # the run speaks again
            with open(live / RUN / "events.jsonl", "a", encoding="utf-8") as fh:
                for ev in make_events(1, start=START + timedelta(minutes=50), first_step=1):
                    fh.write(json.dumps(ev) + "\n")
        report = run_rules(root, RUN, settings, clock, notifier_settings=notifiers)
        at = f"12:{minute:02d}" if minute < 60 else "13:00"
        seen[at] = [f"{t.change} {t.alert.level}" for t in report.transitions]
    assert {k: v for k, v in seen.items() if v} == {
        "12:15": ["fired WARNING"], "12:25": ["escalated CRITICAL"], "12:45": ["repeat CRITICAL"],
        "12:50": ["resolved CRITICAL"]}
    assert _deliveries(http_server) == [("no_events", "WARNING", "firing"), ("no_events", "CRITICAL", "firing"),
                                        ("no_events", "CRITICAL", "firing"), ("no_events", "CRITICAL", "resolved")]
    texts = [r["body"]["text"] for r in http_server.requests]
    assert texts[0].endswith("-> run playbook health-check") and texts[3].startswith("[CRITICAL RESOLVED] no_events")
    log = (deploy / "logs" / "alerts.log").read_text().splitlines()
    assert len(log) == 4  # the log channel records exactly the notifications, not every evaluation


def _set(clock: FakeClock, when: datetime) -> None:
    delta = (when - clock.now()).total_seconds()
    if delta:
        clock.advance(delta)


def _cron(deploy, capsys, when: str, *args: str) -> tuple[int, str]:
    rc = run(["--root", str(deploy), "alerts", "run-rules", "--run-id", RUN, "--now", when, *args])
    return rc, capsys.readouterr().out


def test_three_cron_runs_on_one_critical_send_one_notification(deploy, http_server, capsys):
    _policy(deploy, repeat=60)
    _config(deploy, http_server)
    equity = [10_000.0] * 50 + [9_000.0] * 10  # 10 % drop: pnl_drop CRITICAL
    write_run(deploy / "live_runs", RUN, make_events(60, start=START, equity=equity), meta={"status": "completed"})
    results = [_cron(deploy, capsys, f"2025-12-07T13:{m:02d}:00Z") for m in (0, 5, 10)]
    assert [rc for rc, _ in results] == [1, 1, 1]  # exit 1 iff a CRITICAL fired: every run says so
    assert _deliveries(http_server) == [("pnl_drop", "CRITICAL", "firing")]
    assert "notified fired: pnl_drop CRITICAL" in results[0][1] and "notified" not in results[2][1]
    assert "(playbook: incident-pnl-divergence)" in results[0][1]
    # --no-notify neither sends nor touches the state
    assert _cron(deploy, capsys, "2025-12-07T15:00:00Z", "--no-notify")[0] == 1 and len(http_server.requests) == 1
    assert _cron(deploy, capsys, "2025-12-07T14:05:00Z")[0] == 1  # past repeat_interval (60 min): one repeat
    assert _deliveries(http_server)[1:] == [("pnl_drop", "CRITICAL", "firing")]

    assert run(["--root", str(deploy), "alerts", "list", "--json", "--now", "2025-12-07T14:06:00Z"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["key"], row["status"], row["severity"], row["notifications"], row["playbook"]) == (
        f"pnl_drop|{RUN}", "firing", "CRITICAL", 2, "incident-pnl-divergence")
    assert row["first_fired"] == "2025-12-07T13:00:00Z" and row["last_notified"] == "2025-12-07T14:05:00Z"


def test_kill_switch_held_back_orders_are_no_error_spike(deploy, capsys):
    reasons = [["kill switch engaged"] if i % 3 == 0 else ["kill switch recovering"] if i % 3 == 1 else
               ["kill switch KILLED"] for i in range(30)]
    write_run(deploy / "live_runs", RUN, make_events(30, start=START, orders_blocked=[1] * 30, risk_reasons=reasons))
    rc, out = _cron(deploy, capsys, "2025-12-07T12:30:00Z", "--json", "--no-notify", "--error-spike-max-errors", "5",
                    "--error-spike-window-minutes", "60")
    assert rc == 0 and "error_spike" not in [a["rule"] for a in json.loads(out)["alerts"]]


def test_error_spike_names_the_playbook_of_what_the_errors_are(deploy, capsys):
    limits = [["max_order_notional exceeded (500.00 > 100.00)"]] * 30
    write_run(deploy / "live_runs", RUN, make_events(30, start=START, orders_blocked=[1] * 30, risk_reasons=limits))
    args = ("--json", "--no-notify", "--error-spike-max-errors", "5", "--error-spike-window-minutes", "60")
    out = json.loads(_cron(deploy, capsys, "2025-12-07T12:30:00Z", *args)[1])
    assert [a["playbook"] for a in out["alerts"] if a["rule"] == "error_spike"] == ["incident-risk-limit"]
    write_run(deploy / "live_runs", RUN, make_events(30, start=START, orders_rejected=[1] * 30))
    out = json.loads(_cron(deploy, capsys, "2025-12-07T12:30:00Z", *args)[1])
    assert [a["playbook"] for a in out["alerts"] if a["rule"] == "error_spike"] == ["incident-exchange-error"]


def _drift_run(deploy, *, parquet_upto: int = 0) -> None:
    kinds: list[str] = ["bar"] * 30
    errors: list[str | None] = [None] * 30
    kinds[20], errors[20] = "drift", "position_drift: BTC ledger 0.01000000 vs exchange 0.00900000"
    events = make_events(30, start=START, kind=kinds, error=errors)
    d = write_run(deploy / "live_runs", "testnet_20251207_120000_abc123", events[parquet_upto:] if parquet_upto
                  else events, meta={"status": "running"})
    if parquet_upto:  # compacted as the runtime's writer does it: its Arrow schema, `kind` included
        import pyarrow as pa
        import pyarrow.parquet as pq

        from peaktrade.runtime.events import arrow_schema

        rows = [{**e, "ts_event": datetime.fromisoformat(e["ts_event"].replace("Z", "+00:00")),
                 "ts_bar": datetime.fromisoformat(e["ts_bar"].replace("Z", "+00:00"))} for e in events[:parquet_upto]]
        pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema()), d / "events.parquet")


def test_position_drift_fires_critical_then_resolves_after_its_window(deploy, http_server, capsys):
    _config(deploy, http_server)
    policy = deploy / "policies" / "alerts.yaml"  # the run's silence after 12:29 is not what this is about
    policy.write_text(policy.read_text().replace("  no_events:\n    enabled: true", "  no_events:\n    enabled: false"))
    for parquet_upto in (0, 25):  # the drift in the JSONL, then in the Parquet file with a JSONL tail
        _drift_run(deploy, parquet_upto=parquet_upto)
        rc = run(["--root", str(deploy), "alerts", "run-rules", "--run-id", "testnet_20251207_120000_abc123",
                  "--now", "2025-12-07T12:30:00Z", "--json", "--no-notify"])
        [drift] = [a for a in json.loads(capsys.readouterr().out)["alerts"] if a["rule"] == "position_drift"]
        assert rc == 1 and drift["level"] == "CRITICAL" and drift["playbook"] == "shutdown-emergency"
        assert "BTC ledger 0.01000000 vs exchange 0.00900000" in drift["message"]
    # the drift event was at 12:20; the policy window is 60 min: firing at 13:00, resolved at 13:30
    base = ["--root", str(deploy), "alerts", "watch", "--once", "--no-notify"]
    assert run([*base[:-1], "--now", "2025-12-07T13:00:00Z"]) == 1
    assert "position_drift" in capsys.readouterr().out
    assert run([*base[:-1], "--now", "2025-12-07T13:30:00Z"]) == 0
    assert _deliveries(http_server) == [("position_drift", "CRITICAL", "firing"),
                                        ("position_drift", "CRITICAL", "resolved")]
    assert "position_drift" not in capsys.readouterr().out.split("round done")[-1]


def test_watch_once_covers_crashed_runs_and_resolves_when_acknowledged(deploy, http_server, capsys):
    _config(deploy, http_server)
    crashed = "testnet_20251207_110000_def456"
    write_run(deploy / "live_runs", crashed, make_events(10, start=START - timedelta(hours=1)),
              meta={"status": "crashed", "status_note": "process 4242 ended without a clean shutdown"})
    write_run(deploy / "live_runs", RUN, make_events(10, start=START), meta={"status": "completed",
                                                                             "ended_at": iso(START)})
    watch = ["--root", str(deploy), "alerts", "watch", "--once", "--now"]
    assert run([*watch, "2025-12-07T12:30:00Z"]) == 1
    out = capsys.readouterr().out
    assert f"run {crashed}" in out and f"run {RUN}" not in out  # a run that ended in order is not watched
    assert f"1 CRITICAL firing (run_crashed|{crashed})" in out  # one cause, one page: no_events is inhibited
    assert run([*watch, "2025-12-07T12:35:00Z"]) == 1  # still firing, nothing new to send
    assert _deliveries(http_server) == [("run_crashed", "CRITICAL", "firing")]
    assert run(["--root", str(deploy), "alerts", "list", "--now", "2025-12-07T12:36:00Z"]) == 0
    listing = capsys.readouterr().out
    assert "PLAYBOOK" in listing and f"run_crashed {crashed}: run crashed" in listing
    assert "-> peaktrade play health-check" in listing  # a testnet run: look at the desk

    assert run(["--root", str(deploy), "runs", "ack", "--run-id", crashed, "--note", "host rebooted",
                "--operator", "bob"]) == 0
    assert run([*watch, "2025-12-07T12:40:00Z"]) == 0  # the acknowledged run is watched once more: resolved
    assert _deliveries(http_server)[1:] == [("run_crashed", "CRITICAL", "resolved")]
    assert run([*watch, "2025-12-07T12:45:00Z"]) == 0 and len(http_server.requests) == 2
    capsys.readouterr()
    assert run(["--root", str(deploy), "alerts", "list", "--json", "--now", "2025-12-07T12:46:00Z"]) == 0
    assert [(r["status"], r["resolved_at"]) for r in json.loads(capsys.readouterr().out)] == [
        ("resolved", "2025-12-07T12:40:00Z")]
    assert run(["--root", str(deploy), "alerts", "list", "--now", "2025-12-08T13:00:00Z"]) == 0
    assert "No alerts firing" in capsys.readouterr().out  # resolved more than 24 h ago: only with --all
    assert run(["--root", str(deploy), "alerts", "list", "--all", "--now", "2025-12-08T13:00:00Z"]) == 0
    assert "resolved" in capsys.readouterr().out


def test_state_transitions_on_the_real_desk_store(deploy):
    """De-escalation is silent, a later escalation notifies again, a resolved alert that comes back fires
    again, and a rule that was not evaluated leaves its row alone."""
    from peaktrade.alerts.rules import WARNING, Alert
    from peaktrade.alerts.state import track
    from peaktrade.desk import open_desk

    store = open_desk(Root(deploy))
    crit, warn = Alert("error_spike", CRITICAL, "12 errors", RUN), Alert("error_spike", WARNING, "7 errors", RUN)
    rules = {"error_spike", "pnl_drop"}

    def step(minute: int, alerts: list, evaluated: set = rules) -> list[str]:
        now = iso(START + timedelta(minutes=minute))
        return [f"{t.change} {t.alert.level}" for t in track(store, RUN, alerts, evaluated, now, 3600)]

    assert step(0, [crit]) == ["fired CRITICAL"]
    assert step(5, [warn]) == []  # falling back is no news
    assert store.alert(f"error_spike|{RUN}").severity == WARNING
    assert step(10, [crit]) == ["escalated CRITICAL"]
    assert step(15, [], {"pnl_drop"}) == []  # error_spike did not run: its row stays firing
    assert step(20, []) == ["resolved CRITICAL"]
    assert step(25, []) == []
    assert step(30, [warn]) == ["fired WARNING"]
    row = store.alert(f"error_spike|{RUN}")
    assert (row.status, row.first_fired, row.resolved_at, row.notifications) == (
        "firing", "2025-12-07T12:30:00Z", None, 1)


def test_drift_events_skip_row_groups_older_than_the_window(tmp_path):
    """The runtime appends a row group per compaction: groups older than the window are skipped by their
    ts_event statistics, newer ones and the JSONL tail are read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from peaktrade.alerts.drift import drift_events
    from peaktrade.monitor.columns import parse_ts_ns
    from peaktrade.runtime.events import arrow_schema

    kinds = ["bar"] * 40
    errors: list[str | None] = [None] * 40
    for i in (5, 25, 35):
        kinds[i], errors[i] = "drift", f"position_drift: BTC step {i}"
    events = make_events(40, start=START, kind=kinds, error=errors)
    rows = [{**e, "ts_event": datetime.fromisoformat(e["ts_event"].replace("Z", "+00:00")),
             "ts_bar": datetime.fromisoformat(e["ts_bar"].replace("Z", "+00:00"))} for e in events[:30]]
    d = write_run(tmp_path, RUN, events[30:])
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema()), d / "events.parquet", row_group_size=10)
    texts = [t for _, t in drift_events(d)]
    assert texts == [f"position_drift: BTC step {i}" for i in (5, 25, 35)]
    since = parse_ts_ns(events[20]["ts_event"])
    assert [t for _, t in drift_events(d, since)] == [f"position_drift: BTC step {i}" for i in (25, 35)]


def test_a_failed_run_once_acknowledged_stops_raising_no_events(tmp_path):
    """A run that ended failed is silent for a reason: after `runs ack` its no_events alert resolves."""
    import json as _json
    import subprocess
    import sys

    from tests.gateway.conftest import init_root

    root = init_root(tmp_path / "desk")
    run = root / "live_runs" / "testnet_20260101_000000_abcdef"
    run.mkdir(parents=True)
    (run / "meta.json").write_text(_json.dumps({
        "run_id": run.name, "mode": "testnet", "symbol": "BTC/EUR", "status": "failed",
        "started_at": "2026-01-01T00:00:00Z", "ended_at": "2026-01-01T00:01:00Z", "error": "exchange down"}))
    (run / "events.jsonl").write_text('{"step": 1, "ts_event": "2026-01-01T00:00:30Z", "equity": 10000.0}\n')

    def peaktrade(*args):
        return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], capture_output=True,
                              text=True, timeout=120)

    before = peaktrade("alerts", "run-rules", "--run-id", run.name, "--no-notify", "--json")
    assert "no_events" in before.stdout, before.stdout + before.stderr
    ack = peaktrade("runs", "ack", "--run-id", run.name, "--note", "exchange outage, incident filed")
    assert ack.returncode == 0, ack.stderr
    after = peaktrade("alerts", "run-rules", "--run-id", run.name, "--no-notify", "--json")
    assert '"rule": "no_events"' not in after.stdout and "acknowledged" in after.stdout, after.stdout
