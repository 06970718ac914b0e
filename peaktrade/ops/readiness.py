"""The readiness check (seed ``check_live_readiness``): may a session of this stage start now?

Every check is a value (name, ok, hard, message, what to do); the report passes only if every hard
check passes. Soft checks (``hard=False``) are warnings. The kill switch comes from the one fail-closed read of
the desk state: an unreadable switch reads engaged and fails the check.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.errors import BlockedError, PeakTradeError
from peaktrade.policy.limits import load_risk_limits
from peaktrade.root import Root

STAGES = ("shadow", "testnet", "live")
STAGE_MODE = {"shadow": "paper", "testnet": "testnet", "live": "live"}
MAX_CLOCK_SKEW_MS = 5000
MIN_FREE_DISK_PCT = 10.0


@dataclass
class Check:
    name: str
    ok: bool
    message: str
    action: str = ""  # what to do when it failed
    hard: bool = True


@dataclass
class ReadinessReport:
    stage: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks if c.hard)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.hard]

    def text(self) -> str:
        lines = [f"Readiness check for stage {self.stage}:"]
        for c in self.checks:
            mark = "PASS" if c.ok else ("FAIL" if c.hard else "WARN")
            lines.append(f"  [{mark}] {c.name}: {c.message}")
            if not c.ok and c.action:
                lines.append(f"         -> {c.action}")
        if self.passed:
            lines.append("Readiness-Check PASSED")
        else:
            lines.append(f"Readiness-Check FAILED ({len(self.failed)} of {len(self.checks)} checks failed: "
                         f"{', '.join(c.name for c in self.failed)})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "passed": self.passed, "checks": [asdict(c) for c in self.checks]}


def check_readiness(root: Root, stage: str, *, clock: Clock = SYSTEM_CLOCK,
                    env: Mapping[str, str] | None = None) -> ReadinessReport:
    from peaktrade.config import load_config

    env = os.environ if env is None else env
    report = ReadinessReport(stage)
    add = report.checks.append
    try:
        config = load_config(root)
    except PeakTradeError as exc:
        add(Check("config", False, f"{exc.message}: {'; '.join(exc.details[:3])}",
                  "Fix config/config.toml (run 'peaktrade validate config/config.toml')."))
        add(_disk(root))
        return report
    add(Check("config", True, "config/config.toml parses and validates"))
    want = STAGE_MODE[stage]
    add(Check("environment_mode", config.mode == want, f"environment.mode = {config.mode!r} (stage {stage} needs "
              f"{want!r})", f"Set [environment] mode = \"{want}\" in config/config.toml."))
    add(_risk_limits(root, stage))
    kind = _exchange_type(config, stage)
    add(kind)
    creds = _credentials(config, stage, env)
    add(creds)
    if kind.ok and creds.ok:
        add(_connectivity(config, stage, clock))
    else:
        add(Check("exchange_reachable", False, "not tried: fix the exchange type and credentials first",
                  "See the failed checks above."))
    add(_kill_switch(root, stage, clock))
    add(_disk(root))
    return report


def _risk_limits(root: Root, stage: str) -> Check:
    action = f"Configure stages.{stage} in policies/risk-limits.yaml (reviewed pull request)."
    try:
        limits = load_risk_limits(root, stage)
        values = {k: v for k, v in vars(limits).items() if k.startswith("max_") and v is not None}
    except PeakTradeError as exc:
        return Check("risk_limits", False, exc.message, action)
    if not values:
        return Check("risk_limits", False, f"no risk limits configured for stage {stage}", action)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
    return Check("risk_limits", True, f"{len(values)} limits for stage {stage} ({shown})")


def _exchange_type(config: Any, stage: str) -> Check:
    kind = config.exchange_type
    if kind == "dummy":
        if stage == "live":
            return Check("exchange_type", False, "exchange.default_type = 'dummy' is not allowed for live",
                         "Set [exchange] default_type to a ccxt exchange id (e.g. \"kraken\").")
        return Check("exchange_type", True, "dummy exchange (offline, deterministic simulation)")
    from peaktrade.exchange.ccxt_adapter import testnet_execution

    ccxt_id = config.get("exchange.ccxt_id") or kind
    detail = f"ccxt exchange {ccxt_id!r}"
    how = testnet_execution(ccxt_id, config)
    if how is None:
        return Check("exchange_type", False, f"{detail}: unknown to ccxt", "Check [exchange] ccxt_id.")
    base_url = config.get("exchange.base_url") or ""
    if stage == "testnet":
        where = f"the sandbox at {base_url}" if base_url else "the exchange's sandbox (urls['test'])"
        detail += (f": testnet orders are placed on {where}" if how == "sandbox"
                   else ": no sandbox, testnet orders are validate-only (checked by the exchange, never placed)")
    if stage == "live" and base_url:
        return Check("exchange_type", False, f"{detail} with base_url override {base_url}: live must talk to the "
                     "exchange itself", "Remove [exchange] base_url for live.")
    return Check("exchange_type", True, detail)


def credential_names(config: Any, mode: str) -> dict[str, str | None]:
    """The environment variable NAMES holding the credentials for ``mode`` (never their values)."""
    return {"api_key": (config.get("exchange.api_key_env") or {}).get(mode),
            "api_secret": (config.get("exchange.api_secret_env") or {}).get(mode)}


def _credentials(config: Any, stage: str, env: Mapping[str, str]) -> Check:
    if config.exchange_type == "dummy":
        return Check("credentials", True, "not needed for the dummy exchange")
    if stage == "shadow":
        return Check("credentials", True, "not needed for shadow runs (public market data only)")
    mode = STAGE_MODE[stage]
    names = credential_names(config, mode)
    missing = [f"{role} (no variable name configured for {mode})" if not name else name
               for role, name in names.items() if not name or not env.get(name)]
    if missing:
        return Check("credentials", False, f"not set: {', '.join(missing)}",
                     f"Export the variables named in [exchange] api_key_env/api_secret_env.{mode} "
                     "(never write the values into a file).")
    return Check("credentials", True, f"set: {', '.join(n for n in names.values() if n)}")


def _connectivity(config: Any, stage: str, clock: Clock) -> Check:
    from peaktrade.exchange.status import exchange_status

    try:
        status = exchange_status(config, mode=STAGE_MODE[stage], clock=clock)
    except PeakTradeError as exc:
        action = getattr(exc, "operator_action", "Check the network and the exchange status page.")
        return Check("exchange_reachable", False, exc.message, action)
    if abs(status["clock_skew_ms"]) > MAX_CLOCK_SKEW_MS:
        return Check("exchange_reachable", False, f"clock skew {status['clock_skew_ms']} ms exceeds "
                     f"{MAX_CLOCK_SKEW_MS} ms", "Synchronise the system clock (NTP) before trading.")
    return Check("exchange_reachable", True, f"{status['exchange']} answered in {status['latency_ms']} ms, "
                 f"clock skew {status['clock_skew_ms']} ms")


def _kill_switch(root: Root, stage: str, clock: Clock) -> Check:
    status = read_kill_switch(root, clock)
    if status.state != "ACTIVE":
        since = f" since {status.since}" if status.since else ""
        return Check("kill_switch", False, f"kill switch is {status.word}{since} "
                     f"({status.reason or 'no reason given'})",
                     "Resolve the incident, then 'peaktrade kill-switch release' (needs approval).")
    return Check("kill_switch", True, "released (not engaged)")


def _disk(root: Root) -> Check:
    usage = shutil.disk_usage(root.path)
    free_pct = 100.0 * usage.free / usage.total if usage.total else 0.0
    return Check("disk_space", free_pct >= MIN_FREE_DISK_PCT, f"{free_pct:.1f}% free on {root.path}",
                 f"Free disk space: at least {MIN_FREE_DISK_PCT:.0f}% is required (logs, run logs).")


def require_ready(root: Root, mode: str, *, clock: Clock = SYSTEM_CLOCK) -> list[str]:
    """Seed 10a.7 before a run starts: the readiness check of the mode's stage; BlockedError when it fails.
    Returns the warnings (soft checks that did not pass)."""
    report = check_readiness(root, mode, clock=clock)
    if not report.passed:
        raise BlockedError(f"Readiness-Check FAILED for {mode}: "
                           + "; ".join(f"{c.name}: {c.message}" for c in report.failed),
                           details=report.text().splitlines())
    return [f"{c.name}: {c.message}" for c in report.checks if not c.ok]
