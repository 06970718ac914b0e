"""The incident-exchange-error playbook through the real interpreter, and a play against the simulator
whose journal, checklist and reports are scanned for the test credentials."""

from __future__ import annotations

import json
from pathlib import Path

from peaktrade.cli import run

from .test_exchange_orders_cli import KEY, SECRET, point_at

REPO = Path(__file__).resolve().parents[2]


def cli(root: Path, *args: str) -> int:
    return run(["--root", str(root), *args])


def test_incident_playbook_is_valid(droot, capsys):
    assert (REPO / "playbooks" / "incident-exchange-error.yaml").read_text().startswith(
        "# yaml-language-server: $schema=../schemas/playbook.schema.json\n")
    assert cli(droot, "validate", "playbooks/incident-exchange-error.yaml") == 0, capsys.readouterr()


def journal_steps(root: Path) -> dict[str, str]:
    (journal,) = root.glob("var/plays/*/journal.jsonl")
    out = {}
    for line in journal.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("step") and rec.get("status"):
            out[rec["step"]] = rec["status"]
    return out


def test_rate_limit_branch(droot, capsys):
    assert cli(droot, "play", "incident-exchange-error", "-p", "error_type=rate_limit", "--yes") == 0
    steps = journal_steps(droot)
    assert {s for s, st in steps.items() if st == "succeeded"} >= {"rl-identify", "rl-wait", "rl-check-config",
                                                                    "rl-raise", "rl-restart"}
    assert not any(s.startswith(("auth-", "net-")) and st == "succeeded" for s, st in steps.items())


def test_authentication_branch_pauses_everything_first(droot, capsys):
    from peaktrade.policy.killswitch import KillSwitch
    from peaktrade.root import Root

    rc = cli(droot, "play", "incident-exchange-error", "-p", "error_type=authentication", "--yes")
    out = capsys.readouterr().out
    first_run = [line.split()[1] for line in out.splitlines() if line.startswith("succeeded ")]
    assert first_run[0] == "auth-pause"
    assert KillSwitch(Root(droot)).status().state == "KILLED"
    # the kill switch stays engaged until a two-person release: the play ends blocked, awaiting it (issue 11)
    assert rc == 3 and "awaiting kill-switch release" in out, out


def test_play_against_the_simulator_writes_no_secret(droot, monkeypatch, capsys):
    from peaktrade.exchange.simulator import KrakenSimulator

    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", SECRET)
    (droot / "playbooks" / "exchange-flow.yaml").write_text("""\
name: exchange-flow
title: Exchange flow for the secret scan
runbook: 2
stage: testnet
steps:
  - {id: creds, title: Credentials, action: exchange.credentials, effect: read}
  - {id: ready, title: Readiness, action: readiness.check, with: {stage: testnet}, effect: read}
  - {id: smoke, title: Smoke, action: smoke.run, effect: act}
  - {id: preview, title: Preview, action: orders.preview, with: {strategy: ma_crossover}, effect: read}
  - {id: open, title: Open orders, action: orders.open, effect: read}
  - {id: cancel, title: Cancel all, action: orders.cancel_all, effect: act}
""")
    with KrakenSimulator(KEY, SECRET, balances={"EUR": 50_000.0}) as sim:
        point_at(droot, sim.base_url)
        sim.inject("invalid_key", path="OpenOrders", times=1)  # one auth failure in the journal too
        assert cli(droot, "play", "exchange-flow", "--yes") == 1
        assert cli(droot, "play", "exchange-flow", "--yes") == 0
        assert sim.requests.count("private/AddOrder") >= 3  # the smoke test: market, limit, validate-only
    captured = capsys.readouterr()
    written = [p for p in droot.rglob("*") if p.is_file()]
    assert any("journal.jsonl" in p.name for p in written)
    leaks = [str(p) for p in written if KEY.encode() in p.read_bytes() or SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert KEY not in captured.out + captured.err and SECRET not in captured.out + captured.err
