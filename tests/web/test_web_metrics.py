"""/metrics: Prometheus text made by prometheus_client, read back with its own parser."""

from __future__ import annotations


def _families(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(fam, **labels) -> float:
    found = [s.value for s in fam.samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (fam.name, labels, fam.samples)
    return found[0]


def test_metrics_parse_and_carry_the_desk(client, desk):
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    fams = _families(r.text)
    run = "shadow_20260101_000001_aaaaaa"
    assert _value(fams["peaktrade_run_equity"], run_id=run) == 10_000 + 5 * (39 % 7) - 39
    assert _value(fams["peaktrade_run_pnl"], run_id=run) == 5 * (39 % 7) - 39
    assert _value(fams["peaktrade_run_drawdown_ratio"], run_id=run) < 0
    assert _value(fams["peaktrade_run_events"], run_id=run) == 40
    assert _value(fams["peaktrade_run_orders_blocked"], run_id=run) == 1  # the kill-switch block of step 39
    assert _value(fams["peaktrade_run_stale"], run_id="shadow_20260101_000002_bbbbbb") == 1
    assert "testnet_20260101_000003_cccccc" not in r.text  # ended: its series ended with it
    assert _value(fams["peaktrade_runs"], status="lost") == 1
    assert _value(fams["peaktrade_runs"], status="running") == 2
    assert _value(fams["peaktrade_runs"], status="completed") == 1  # not registered: meta.json says
    assert _value(fams["peaktrade_runs_needing_attention"]) == 1  # the lost one
    assert _value(fams["peaktrade_alerts_firing"], severity="CRITICAL") == 1
    assert _value(fams["peaktrade_alerts_firing"], severity="WARNING") == 0  # the WARNING one is resolved
    assert _value(fams["peaktrade_kill_switch_state"]) == 0
    assert _value(fams["peaktrade_journal_integrity_failures"]) == 0


def test_metrics_count_a_tampered_journal(client, desk):
    path = desk["root"] / "var" / "plays" / desk["play_id"] / "journal.jsonl"
    path.write_text(path.read_text().replace("health-check", "health-chek", 1))
    fams = _families(client.get("/metrics").text)
    assert _value(fams["peaktrade_journal_integrity_failures"]) == 1
