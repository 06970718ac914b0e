"""Orders, exchange CLI and the actions; the full flow against the simulator with a secret scan."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
from pathlib import Path

import pytest

from peaktrade.actions.registry import ActionContext, get
from peaktrade.cli import run
from peaktrade.exchange.simulator import KrakenSimulator
from peaktrade.root import Root

KEY = "flow-key-QX81zv5Lk2"
SECRET = base64.b64encode(b"flow-secret-bytes-93hf7a1kq0").decode()


def cli(root: Path, *args: str) -> int:
    return run(["--root", str(root), *args])


def point_at(root: Path, base_url: str, **extra: str) -> None:
    cfg = root / "config" / "config.toml"
    text = cfg.read_text()
    text = re.sub(r'^default_type = "dummy"', 'default_type = "kraken"', text, count=1, flags=re.M)
    text = re.sub(r'^base_url = ""', f'base_url = "{base_url}"\nsandbox = true', text, count=1, flags=re.M)
    for key, value in {"timeout_ms": "2000", "rate_limit_ms": "0", "retry_base_delay_s": "0.01",
                       "rate_limit_backoff_s": "0.01", **extra}.items():
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
    cfg.write_text(text)


@pytest.fixture
def creds(monkeypatch):
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", SECRET)


@pytest.fixture
def sim():
    with KrakenSimulator(KEY, SECRET, balances={"EUR": 50_000.0}) as s:
        yield s


def test_orders_on_the_dummy(droot, capsys):
    assert cli(droot, "orders", "preview", "--strategy", "ma_crossover") == 0
    out = capsys.readouterr().out
    assert out.startswith("Order preview for strategy ma_crossover on BTC/EUR 1m")
    assert "(validate-only, not placed)" in out or "no order: the strategy holds its position" in out
    assert cli(droot, "orders", "open", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli(droot, "orders", "cancel-all") == 2
    assert "confirm with --yes" in capsys.readouterr().err
    assert cli(droot, "orders", "cancel-all", "--yes") == 0
    assert "cancelled 0 open order(s)" in capsys.readouterr().out
    assert cli(droot, "orders", "preview", "--strategy", "nope") == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err


def test_cancel_all_in_live_needs_the_live_gate(droot, capsys):
    cfg = droot / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "live"', 1))
    assert cli(droot, "orders", "cancel-all", "--yes") == 3
    err = capsys.readouterr().err
    assert "cancel-all blocked" in err and "live gate closed" in err and "journal: var/plays/" in err
    result = get("orders.cancel_all").fn(ActionContext(Root(droot)), {})
    assert result.blocked and not result.ok


def test_exchange_errors_table(droot, capsys):
    assert cli(droot, "exchange", "errors", "--json") == 0
    table = json.loads(capsys.readouterr().out)
    assert [(r["error"], r["severity"], r["halt"]) for r in table] == [
        ("ExchangeNetworkError", "medium", "no"), ("ExchangeRateLimitError", "low", "no"),
        ("ExchangeAuthenticationError", "high", "yes"), ("ExchangeOrderError", "medium", "no"),
        ("ExchangeAPIError", "medium", "no")]


def test_credentials_action_names_only(droot, creds, sim):
    point_at(droot, sim.base_url)
    result = get("exchange.credentials").fn(ActionContext(Root(droot)), {})
    assert result.ok and result.data["variables"] == {"KRAKEN_TESTNET_API_KEY": True,
                                                      "KRAKEN_TESTNET_API_SECRET": True}
    assert KEY not in json.dumps(result.data) + result.output + result.summary


def test_credentials_action_reports_missing(droot, monkeypatch):
    monkeypatch.delenv("KRAKEN_TESTNET_API_SECRET", raising=False)
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", KEY)
    point_at(droot, "http://127.0.0.1:9")
    result = get("exchange.credentials").fn(ActionContext(Root(droot)), {})
    assert not result.ok and result.summary == "credentials missing: KRAKEN_TESTNET_API_SECRET"


def test_credentials_cli(droot, monkeypatch, capsys):
    monkeypatch.delenv("KRAKEN_TESTNET_API_SECRET", raising=False)
    monkeypatch.setenv("KRAKEN_TESTNET_API_KEY", KEY)
    point_at(droot, "http://127.0.0.1:9")
    assert cli(droot, "exchange", "credentials") == 1
    out = capsys.readouterr().out
    assert "KRAKEN_TESTNET_API_KEY: set" in out and "KRAKEN_TESTNET_API_SECRET: MISSING" in out
    assert KEY not in out


def test_readiness_fails_when_exchange_unreachable(droot, creds, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    point_at(droot, f"http://127.0.0.1:{port}", retry_max_attempts="1")
    assert cli(droot, "readiness", "--stage", "testnet") == 1
    out = capsys.readouterr().out
    assert "[FAIL] exchange_reachable: Network error" in out
    assert "Check the exchange status page and your own network" in out
    assert "testnet orders are placed on the sandbox at http://127.0.0.1:" in out


def test_readiness_fails_on_clock_skew(droot, creds, capsys):
    with KrakenSimulator(KEY, SECRET, time_offset_s=120) as skewed:
        point_at(droot, skewed.base_url)
        assert cli(droot, "readiness", "--stage", "testnet") == 1
    out = capsys.readouterr().out
    assert re.search(r"\[FAIL\] exchange_reachable: clock skew 1\d{5} ms exceeds 5000 ms", out)
    assert "Synchronise the system clock" in out


def test_full_flow_against_the_simulator_leaks_no_secret(droot, creds, sim, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    point_at(droot, sim.base_url)
    assert cli(droot, "readiness", "--stage", "testnet") == 0
    assert cli(droot, "smoke") == 0
    assert cli(droot, "orders", "preview", "--strategy", "ma_crossover") == 0
    assert cli(droot, "exchange", "status", "--json") == 0
    sim.inject("invalid_key", path="AddOrder")
    assert cli(droot, "smoke") == 1  # an auth failure on the way: logged, reported, and the smoke test halts
    ctx = ActionContext(Root(droot), echo=lambda line: None)
    for name, args in [("readiness.check", {"stage": "testnet"}), ("smoke.run", {}), ("orders.open", {}),
                       ("exchange.status", {}), ("exchange.credentials", {})]:
        result = get(name).fn(ctx, args)
        assert result.ok, (name, result.summary)
    sim.inject("accept_then_timeout", path="AddOrder")
    captured = capsys.readouterr()
    out = captured.out + captured.err + caplog.text
    assert "Readiness-Check PASSED" in out and "Smoke-Test PASSED" in out and "Smoke-Test FAILED" in out
    assert "[EXCHANGE] ExchangeAuthenticationError: Authentication failed" in out
    leaks = [str(p) for p in droot.rglob("*") if p.is_file() and (KEY.encode() in p.read_bytes()
                                                                   or SECRET.encode() in p.read_bytes())]
    assert leaks == []
    assert KEY not in out and SECRET not in out
    assert len(sim.orders) >= 4  # the flow really traded on the simulator


def test_simulate_command_serves_real_ccxt(droot, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from peaktrade.clock import FakeClock
    from peaktrade.exchange.ccxt_adapter import CcxtExchange

    env = {**os.environ, "KRAKEN_TESTNET_API_KEY": KEY, "KRAKEN_TESTNET_API_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(droot), "exchange", "simulate",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line).group(1)
        ex = CcxtExchange("kraken", mode="testnet", api_key=KEY, secret=SECRET, rate_limit_ms=0, timeout_ms=3000,
                          base_url=url, execution="sandbox", clock=FakeClock())
        order = ex.create_order("BTC/EUR", "buy", "market", 0.01)
        assert order.status == "closed" and ex.fetch_balance()["BTC"] == pytest.approx(0.01)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and "Traceback" not in err


def test_simulate_needs_credentials(droot, monkeypatch, capsys):
    monkeypatch.delenv("KRAKEN_TESTNET_API_KEY", raising=False)
    assert cli(droot, "exchange", "simulate", "--port", "0") == 2
    assert "set KRAKEN_TESTNET_API_KEY and KRAKEN_TESTNET_API_SECRET first" in capsys.readouterr().err


def test_live_readiness_refuses_a_base_url_override(droot, sim, monkeypatch, capsys):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)
    point_at(droot, sim.base_url)
    cfg = droot / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "live"', 1))
    assert cli(droot, "readiness", "--stage", "live") == 1
    out = capsys.readouterr().out
    assert f"with base_url override {sim.base_url}: live must talk to the exchange itself" in out
    assert "[PASS] credentials: set: KRAKEN_API_KEY, KRAKEN_API_SECRET" in out


def test_unknown_ccxt_id_fails_readiness(droot, capsys):
    cfg = droot / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('default_type = "dummy"', 'default_type = "nosuchexchange"', 1)
                   .replace('ccxt_id = "kraken"', 'ccxt_id = "nosuchexchange"', 1)
                   .replace('mode = "testnet"', 'mode = "paper"', 1))
    assert cli(droot, "readiness", "--stage", "shadow") == 1
    assert "[FAIL] exchange_type: ccxt exchange 'nosuchexchange': unknown to ccxt" in capsys.readouterr().out
