"""The policy commands end to end through the real CLI, with real keys, files and templates."""

from __future__ import annotations

import json

import pytest

from peaktrade.cli import run


@pytest.fixture
def cli(aroot, monkeypatch, capsys):
    monkeypatch.setenv("PEAKTRADE_ROOT", str(aroot.path))

    def call(*argv):
        code = run(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def sign_all(cli, rid, keys, *names):
    for n in names:
        code, out, err = cli("approvals", "sign", rid, "--as", n, "--key", str(keys[n]))
        assert code == 0, err
        assert out.startswith(f"{n} signed {rid} with key SHA256:")


def test_approval_request_sign_verify_list(cli, keys):
    code, out, _ = cli("approvals", "request", "--playbook", "approve-demo", "--decision", "live_activation",
                       "-p", "size=12", "--requester", "bob", "--expires-in", "2h", "--json")
    req = json.loads(out)
    assert code == 0 and req["subject"]["params"] == {"size": 12.0, "note": "none"}
    rid = req["id"]
    code, out, _ = cli("approvals", "verify", rid)
    assert code == 3 and "missing an owner, another person (valid signers: none)" in out
    code, out, _ = cli("approvals", "list", "--json")
    assert json.loads(out)[0]["status"] == "pending"
    sign_all(cli, rid, keys, "alice", "erin")
    code, out, _ = cli("approvals", "verify", rid)
    assert code == 0 and out.startswith(f"VALID: {rid} (live_activation) for playbook approve-demo")
    assert "signed by alice [owner] SHA256:" in out
    code, out, _ = cli("approvals", "list", "--json")
    (row,) = json.loads(out)
    # fully signed and unused: complete (issue 9: it used to say pending)
    assert (row["status"], row["signed_by"], row["subject"]) == ("complete", ["alice", "erin"],
                                                                 "playbook approve-demo (note=none, size=12.0)")


def test_request_usage_errors(cli):
    assert cli("approvals", "request", "--decision", "live_activation")[0] == 2
    assert cli("approvals", "request", "--decision", "live_activation", "--playbook", "nope")[0] == 2
    code, _, err = cli("approvals", "request", "--decision", "kill_switch_release", "--kill-switch")
    assert code == 2 and "not engaged" in err
    assert cli("approvals", "sign", "../etc", "--as", "alice", "--key", "/nope")[0] == 2


def test_kill_switch_engage_release_cycle(cli, keys):
    assert cli("kill-switch", "engage", "--reason", "unexpected fills", "--operator", "bob")[0] == 0
    code, out, _ = cli("kill-switch", "status", "--json")
    assert json.loads(out)["state"] == "KILLED"
    code, _, err = cli("kill-switch", "release", "--operator", "bob")
    assert code == 3 and "release needs a kill_switch_release approval" in err
    code, out, _ = cli("approvals", "request", "--decision", "kill_switch_release", "--kill-switch",
                       "--requester", "bob", "--json")
    rid = json.loads(out)["id"]
    sign_all(cli, rid, keys, "alice")
    code, _, err = cli("kill-switch", "release", "--operator", "bob")
    assert code == 3 and "missing another person" in err
    sign_all(cli, rid, keys, "erin")
    # the operator who releases proves who they are: another person's (or a stranger's) key is refused
    code, _, err = cli("kill-switch", "release", "--operator", "bob", "--key", str(keys["mallory"]))
    assert code == 3 and "is not one of bob's keys" in err
    code, out, _ = cli("kill-switch", "release", "--operator", "bob")  # bob's key, from the ssh-agent
    assert code == 0 and out.startswith("Kill switch: recovering") and "new orders stay blocked until" in out
    # a second engagement cannot reuse the first approval
    assert cli("kill-switch", "engage", "--reason", "again", "--operator", "bob")[0] == 0
    code, _, err = cli("kill-switch", "release", "--operator", "bob", "--request", rid)
    assert code == 3 and "was signed for" in err


def test_stage_promotion_renders_the_checklist_and_records_the_stage(cli, keys, aroot, set_yaml):
    set_yaml("stages", "min_days_in_previous_stage: 14", "min_days_in_previous_stage: 0")
    set_yaml("stages", "min_runs_in_previous_stage: 5", "min_runs_in_previous_stage: 1")
    code, _, err = cli("stage", "promote", "--to", "live", "--operator", "bob", "--yes")
    assert code == 3 and "evidence missing: runs in testnet: 0 (needs 1)" in err
    (aroot.path / "live_runs" / "testnet_20251201_100000_abcdef").mkdir(parents=True)
    code, _, err = cli("stage", "promote", "--to", "live", "--operator", "bob", "--yes")
    assert code == 3 and "needs a live_activation approval" in err
    code, out, _ = cli("approvals", "request", "--decision", "live_activation", "--stage-to", "live",
                       "--requester", "bob", "--json")
    rid = json.loads(out)["id"]
    sign_all(cli, rid, keys, "alice", "erin")
    code, _, err = cli("stage", "promote", "--to", "live", "--operator", "bob")
    assert code == 2 and "confirm each checklist item" in err  # no terminal, no --yes
    code, out, err = cli("stage", "promote", "--to", "live", "--operator", "bob", "--yes", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["stage"], result["from"], result["request_id"]) == ("live", "testnet", rid)
    text = (aroot.path / result["checklist"]).read_text()
    assert "# Stage transition testnet → live" in text
    assert "| alice | owner | `SHA256:" in text and "live.enabled` is still `false`" in text
    code, out, _ = cli("stage", "status", "--json")
    assert json.loads(out)["stage"] == "live" and json.loads(out)["next"] is None
    assert cli("stage", "promote", "--to", "shadow", "--yes")[0] == 2


def test_risk_show_and_check(cli, aroot, set_yaml):
    set_yaml("risk-limits", "    max_open_positions: 2\n", "")
    code, out, _ = cli("risk", "show", "--stage", "live")
    assert code == 0 and "max_open_positions            not set  (NOT ENFORCED)" in out
    code, out, _ = cli("risk", "show", "--stage", "live", "--json")
    assert json.loads(out)["not_set"] == ["max_open_positions"]
    code, out, _ = cli("risk", "check", "--stage", "live", "--symbol", "BTC/EUR", "--side", "buy",
                       "--quantity", "0.001", "--price", "50000")
    # no live session yet: the live ledger is empty (it starts from the exchange's balances): fail closed
    assert code == 3 and "desk ledger of the live account: cash 0.00" in out and "invalid_input" in out
    from peaktrade.desk import open_desk

    open_desk(aroot).sync_account("live", cash=10_000.0, positions={}, marks={})
    code, out, _ = cli("risk", "check", "--stage", "live", "--symbol", "BTC/EUR", "--side", "buy",
                       "--quantity", "0.001", "--price", "50000")
    assert code == 0 and out.rstrip().endswith("ALLOWED") and "max_order_notional" in out
    code, out, _ = cli("risk", "check", "--stage", "live", "--symbol", "BTC/EUR", "--side", "buy",
                       "--quantity", "0.01", "--price", "50000", "--json")
    d = json.loads(out)
    assert code == 3 and d["reasons"] == ["max_order_notional exceeded (500.00 > 100.00)"]
    assert {c["name"]: c["level"] for c in d["checks"]}["max_symbol_exposure"] == "warning"  # 500 is not > 500
    assert cli("risk", "check", "--symbol", "X", "--side", "hold", "--quantity", "1", "--price", "1")[0] == 2
    assert cli("risk", "show", "--stage", "prod")[0] == 2


def test_risk_check_reads_the_desk_ledger_of_the_stages_account(cli, aroot):
    from peaktrade.desk import open_desk
    from peaktrade.policy.daily import DailyLossTracker
    from peaktrade.policy.limits import load_risk_limits

    store = open_desk(aroot)
    store.ensure_account("testnet", cash=10_000.0)
    day = DailyLossTracker.for_limits(load_risk_limits(aroot, "testnet")).trading_day().isoformat()
    store.set_day("testnet", day=day, day_start_equity=10_000.0)
    store.sync_account("testnet", cash=5_000.0, positions={"BTC/EUR": 45.0}, marks={"BTC/EUR": 100.0})
    store.sync_account("paper", cash=99_999.0, positions={}, marks={})  # another account: never read
    code, out, err = cli("risk", "check", "--symbol", "BTC/EUR", "--side", "buy", "--quantity", "1",
                         "--price", "100", "--json")
    d = json.loads(out)
    assert d["portfolio_source"] == "desk ledger of the testnet account: cash 5,000.00, 1 position(s)"
    # the day started at 10,000; equity 9,500 now: 500 lost today = testnet's 500 and 5 % -> HALTED
    assert (d["state"], d["reasons"]) == ("HALTED", ["max_daily_loss_abs reached (500.00 >= 500.00)",
                                                     "max_daily_loss_pct reached (5.00 >= 5.00)"])
    checks = {c["name"]: c["value"] for c in d["checks"]}
    assert checks["max_daily_loss_abs"] == 500.0 and checks["max_daily_loss_pct"] == 5.0
