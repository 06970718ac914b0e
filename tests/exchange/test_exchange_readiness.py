from __future__ import annotations

import json
import re
from collections import namedtuple
from pathlib import Path

import pytest

from peaktrade.cli import run


def cli(root: Path, *args: str) -> int:
    return run(["--root", str(root), *args])


def set_config(root: Path, pattern: str, repl: str) -> None:
    cfg = root / "config" / "config.toml"
    text, n = re.subn(pattern, repl, cfg.read_text(), count=1, flags=re.M)
    assert n == 1, pattern
    cfg.write_text(text)


def test_fresh_root_passes_testnet_readiness_and_smoke(droot, capsys):
    assert cli(droot, "readiness", "--stage", "testnet") == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("Readiness-Check PASSED")
    assert "[PASS] exchange_reachable: dummy answered" in out
    assert cli(droot, "smoke") == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("Smoke-Test PASSED")
    for step in ("market order: buy", "limit order open -> cancel", "validate-only preview", "open orders"):
        assert f"[PASS] {step}" in out


def test_readiness_json(droot, capsys):
    set_config(droot, r'^mode = "testnet"', 'mode = "paper"')
    assert cli(droot, "readiness", "--stage", "shadow", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True and data["stage"] == "shadow"
    assert [c["name"] for c in data["checks"]] == ["config", "environment_mode", "risk_limits", "exchange_type",
                                                   "credentials", "exchange_reachable", "kill_switch", "disk_space"]


def failed(root: Path, capsys, stage: str = "testnet") -> str:
    assert cli(root, "readiness", "--stage", stage) == 1
    out = capsys.readouterr().out
    assert "Readiness-Check PASSED" not in out and "Readiness-Check FAILED" in out
    return out


def test_broken_config_fails(droot, capsys):
    set_config(droot, r'^rate_limit_ms = 1000', 'rate_limit_ms = -5')
    out = failed(droot, capsys)
    assert "[FAIL] config: config/config.toml is invalid" in out and "rate_limit_ms" in out
    assert "Fix config/config.toml" in out


def test_wrong_mode_fails(droot, capsys):
    out = failed(droot, capsys, "shadow")
    assert "[FAIL] environment_mode: environment.mode = 'testnet' (stage shadow needs 'paper')" in out
    assert '-> Set [environment] mode = "paper"' in out


def test_missing_risk_limits_fail(droot, capsys):
    path = droot / "policies" / "risk-limits.yaml"
    text = path.read_text()
    start = text.index("  testnet:")
    end = text.index("  live:")
    path.write_text(text[:start] + text[end:])
    out = failed(droot, capsys)
    assert "[FAIL] risk_limits:" in out and "testnet" in out


def test_dummy_not_allowed_for_live(droot, capsys):
    set_config(droot, r'^mode = "testnet"', 'mode = "live"')
    out = failed(droot, capsys, "live")
    assert "[FAIL] exchange_type: exchange.default_type = 'dummy' is not allowed for live" in out


def test_missing_credentials_fail(droot, capsys, monkeypatch):
    monkeypatch.delenv("KRAKEN_TESTNET_API_KEY", raising=False)
    monkeypatch.delenv("KRAKEN_TESTNET_API_SECRET", raising=False)
    set_config(droot, r'^default_type = "dummy"', 'default_type = "kraken"')
    out = failed(droot, capsys)
    assert "[FAIL] credentials: not set: KRAKEN_TESTNET_API_KEY, KRAKEN_TESTNET_API_SECRET" in out
    assert "testnet orders are validate-only" in out  # Kraken spot has no sandbox


def test_engaged_kill_switch_fails(droot, capsys):
    from peaktrade.policy.killswitch import KillSwitch
    from peaktrade.root import Root

    KillSwitch(Root(droot)).engage("unexpected fills", "alice")
    out = failed(droot, capsys)
    assert "[FAIL] kill_switch: kill switch is engaged since" in out and "unexpected fills" in out


def test_full_disk_fails(droot, capsys, monkeypatch):
    import peaktrade.ops.readiness as readiness

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(readiness.shutil, "disk_usage", lambda path: usage(100, 95, 5))
    out = failed(droot, capsys)
    assert "[FAIL] disk_space: 5.0% free" in out


def test_unknown_stage_is_usage_error(droot, capsys):
    assert cli(droot, "readiness", "--stage", "prod") == 2
    assert "unknown stage 'prod'" in capsys.readouterr().err


def test_smoke_refuses_live(droot, capsys):
    set_config(droot, r'^mode = "testnet"', 'mode = "live"')
    assert cli(droot, "smoke") == 3
    assert "never runs against live" in capsys.readouterr().err


@pytest.mark.parametrize("stage", ["testnet"])
def test_readiness_action(droot, stage):
    from peaktrade.actions.registry import ActionContext, get
    from peaktrade.root import Root

    spec = get("readiness.check")
    result = spec.fn(ActionContext(Root(droot)), {"stage": stage})
    assert result.ok and result.summary == "Readiness-Check PASSED"
    smoke = get("smoke.run").fn(ActionContext(Root(droot)), {})
    assert smoke.ok and smoke.summary == "Smoke-Test PASSED" and smoke.data["passed"]


def test_readiness_and_smoke_pass_on_a_fresh_init_root(tmp_path, capsys):
    root = tmp_path / "desk"
    assert run(["init", str(root)]) == 0
    capsys.readouterr()
    assert cli(root, "readiness", "--stage", "testnet") == 0
    assert capsys.readouterr().out.rstrip().endswith("Readiness-Check PASSED")
    assert cli(root, "smoke") == 0
    assert capsys.readouterr().out.rstrip().endswith("Smoke-Test PASSED")


def test_an_unreadable_kill_switch_fails_the_check(droot, capsys):
    """No fallback: a kill switch that cannot be read reads engaged, and readiness fails on it."""
    import sqlite3

    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    open_desk(Root(droot))
    con = sqlite3.connect(droot / "var" / "desk.sqlite")
    con.execute("DELETE FROM kill_switch")
    con.commit()
    con.close()
    out = failed(droot, capsys)
    assert "[FAIL] kill_switch: kill switch is engaged (desk state unreadable, failing closed" in out
