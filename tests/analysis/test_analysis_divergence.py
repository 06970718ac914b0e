"""Runbook 9 on real runs of the runtime (dummy exchange, offline): backtest, divergence, causes."""

from __future__ import annotations

import json

import pytest

from peaktrade.cli import run
from peaktrade.runtime.runlog import read_events
from tests.conftest import next_market_seed

SESSION = "# paper fills in shadow mode\nfee_rate = 0.0026\nslippage_bps = 5.0"


def _set_session(deploy, *, fee_rate=0.0026, slippage_bps=5.0, fraction=0.08):
    cfg = deploy / "config" / "config.toml"
    text = cfg.read_text()
    if SESSION not in text:
        text = text.replace(text[text.index("# paper fills in shadow mode"):text.index("[session.profiles")],
                            SESSION + "\n\n")
    text = text.replace(SESSION, f"# paper fills in shadow mode\nfee_rate = {fee_rate}\nslippage_bps = {slippage_bps}")
    text = text.replace("position_fraction = 0.005", f"position_fraction = {fraction}")
    cfg.write_text(text)


def _session(deploy, capsys, steps=40):
    """A shadow session that traded (the next market seed when one traded nothing: tests.conftest)."""
    for _ in range(8):
        before = set((deploy / "live_runs").iterdir())
        assert run(["--root", str(deploy), "session", "run", "--mode", "shadow", "--steps", str(steps)]) == 0
        capsys.readouterr()
        [d] = set((deploy / "live_runs").iterdir()) - before
        if any(e["orders_filled"] for e in read_events(d)):
            return d.name
        next_market_seed(deploy)
    raise AssertionError("no shadow session traded on 8 market seeds")


def _divergence(deploy, capsys, run_id, *extra):
    rc = run(["--root", str(deploy), "divergence", "--run-id", run_id, "--json", *extra])
    return rc, json.loads(capsys.readouterr().out)


def test_backtest_reproduces_a_shadow_run_exactly(deploy, capsys):
    _set_session(deploy)
    run_id = _session(deploy, capsys)
    rc, r = _divergence(deploy, capsys, run_id)
    assert rc == 0 and r["divergent"] is False and r["cause"] is None
    assert r["run"]["pnl"] == pytest.approx(r["backtest"]["pnl"], abs=1e-6)
    assert r["data"]["close_mismatches"] == 0 and r["strategy"]["signal_mismatches"] == 0
    assert r["strategy"]["trades_run"] == r["strategy"]["trades_backtest"] > 0
    assert r["slippage"]["mean_bps"] == pytest.approx(5.0, abs=1e-6)  # recovered from the book changes
    assert r["fees"]["run"] == pytest.approx(r["fees"]["backtest"], rel=1e-9)


def test_slippage_higher_than_modelled_is_found(deploy, capsys):
    _set_session(deploy, slippage_bps=2000.0)
    run_id = _session(deploy, capsys)
    _set_session(deploy, slippage_bps=5.0)  # the model the desk believes in
    # the price path depends on the wall clock: a 10 % threshold keeps a strong trend from hiding the gap
    rc, r = _divergence(deploy, capsys, run_id, "--threshold-pct", "10")
    assert rc == 1 and r["divergent"] is True and r["cause"] == "slippage"
    assert r["slippage"]["mean_bps"] == pytest.approx(2000.0, abs=1e-6)
    assert r["fees"]["observed_fee_rate"] == pytest.approx(0.0026, rel=1e-9)
    assert r["evidence"][0].startswith(f"mean slippage 2000.0 bps vs 5 bps expected over {r['slippage']['fills']} fill")
    assert r["divergence_pct"] > 10


def test_wrong_fee_model_is_found(deploy, capsys):
    _set_session(deploy, fee_rate=0.1)
    run_id = _session(deploy, capsys)
    _set_session(deploy, fee_rate=0.0026)
    rc, r = _divergence(deploy, capsys, run_id, "--threshold-pct", "10")
    # opening fills book their fee as realized PnL: fee and price separate exactly, so the 5 bps of
    # modelled slippage are not mistaken for a slippage problem
    assert rc == 1 and r["cause"] == "fee"
    assert r["fees"]["observed_fee_rate"] == pytest.approx(0.1, rel=1e-6)
    assert r["slippage"]["mean_bps"] == pytest.approx(5.0, abs=1e-3)
    assert r["run"]["pnl"] < r["backtest"]["pnl"]


def test_bad_data_is_found_before_anything_else(deploy, capsys):
    from peaktrade.monitor.synthetic import write_run
    from peaktrade.runtime.runlog import read_events, read_meta

    _set_session(deploy)
    src = deploy / "live_runs" / _session(deploy, capsys)
    events = read_events(src)
    for e in events[10:13]:
        e["close"] = e["price"] = e["close"] * 1.01  # the feed delivered wrong prices
    events[-1]["equity"] -= 500.0
    meta = read_meta(src)
    bad = meta["run_id"][:-6] + "bad000"
    write_run(deploy / "live_runs", bad, events, meta={**meta, "run_id": bad})
    rc, r = _divergence(deploy, capsys, bad)
    assert rc == 1 and r["cause"] == "data" and r["data"]["close_mismatches"] == 3
    assert r["data"]["first_mismatches"] == [e["ts_bar"] for e in events[10:13]]


def test_divergence_text_and_bad_input(deploy, capsys):
    _set_session(deploy)
    run_id = _session(deploy, capsys, steps=25)
    assert run(["--root", str(deploy), "divergence", "--run-id", run_id]) == 0
    out = capsys.readouterr().out
    assert "divergence 0.0 % (threshold 30 %)" in out and "OK: run and backtest agree" in out
    assert run(["--root", str(deploy), "divergence", "--run-id", run_id, "--threshold-pct", "0"]) == 2
    assert run(["--root", str(deploy), "divergence", "--run-id", "shadow_20250101_000000_ffffff"]) == 2
    assert "unknown run id" in capsys.readouterr().err


def test_backtest_cli_from_exchange_and_from_cache_agree(deploy, capsys):
    args = ["--root", str(deploy), "backtest", "--strategy", "ma_crossover", "--symbol", "BTC/EUR",
            "--timeframe", "1m", "--start", "2025-12-07T10:00:00Z", "--end", "2025-12-07T12:00:00Z", "--json"]
    assert run(args) == 0
    live = json.loads(capsys.readouterr().out)
    assert live["source"] == "exchange:dummy" and live["bars"] == 121
    from datetime import UTC, datetime

    from peaktrade.analysis.datagaps import backfill
    from peaktrade.clock import FakeClock
    from peaktrade.root import Root

    backfill(Root(deploy), start="2025-12-07T09:00:00Z", end="2025-12-07T12:30:00Z",
             clock=FakeClock(datetime(2025, 12, 7, 13, tzinfo=UTC)))
    assert run(args) == 0
    cached = json.loads(capsys.readouterr().out)
    assert cached["source"] == "cache:data/dummy/BTC-EUR_1m.csv"
    assert {k: cached[k] for k in ("pnl", "bars", "trades", "fees")} == {k: live[k] for k in ("pnl", "bars", "trades",
                                                                                              "fees")}
    assert run([*args[:-3], "--end", "2025-12-07T09:00:00Z"]) == 2
    assert "is before --start" in capsys.readouterr().err
