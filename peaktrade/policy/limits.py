"""Risk limits (policies/risk-limits.yaml): per stage, a limit left out is ``None`` = not enforced."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from peaktrade.errors import UsageError
from peaktrade.root import Root

LIMIT_NAMES = ("max_order_notional", "max_symbol_exposure", "max_total_exposure", "max_open_positions",
               "max_daily_loss_abs", "max_daily_loss_pct")


@dataclass(frozen=True)
class RiskLimits:
    stage: str = "testnet"
    max_order_notional: float | None = None
    max_symbol_exposure: float | None = None
    max_total_exposure: float | None = None
    max_open_positions: int | None = None
    max_daily_loss_abs: float | None = None
    max_daily_loss_pct: float | None = None
    warning_threshold_factor: float = 0.8
    base_currency: str = "EUR"
    daily_reset_timezone: str = "UTC"
    daily_reset_time: str = "00:00"

    def enforced(self) -> dict[str, float | int]:
        return {n: getattr(self, n) for n in LIMIT_NAMES if getattr(self, n) is not None}

    def not_set(self) -> list[str]:
        return [n for n in LIMIT_NAMES if getattr(self, n) is None]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_risk_policy(root: Root) -> dict[str, Any]:
    from peaktrade.policy.files import load_policy

    return load_policy(root, "risk-limits")


def limits_from_policy(data: dict[str, Any], stage: str) -> RiskLimits:
    if stage not in data["stages"]:
        raise UsageError(f"unknown stage {stage!r}: one of {sorted(data['stages'])}")
    from peaktrade.policy.daily import parse_reset

    parse_reset(data["daily_reset_timezone"], data["daily_reset_time"])  # fail early on a bad zone
    per_stage = data["stages"][stage]
    return RiskLimits(
        stage=stage,
        **{n: per_stage.get(n) for n in LIMIT_NAMES},
        warning_threshold_factor=float(data["warning_threshold_factor"]),
        base_currency=data["base_currency"],
        daily_reset_timezone=data["daily_reset_timezone"],
        daily_reset_time=data["daily_reset_time"],
    )


def load_risk_limits(root: Root, stage: str) -> RiskLimits:
    """The effective limits of ``stage``; an invalid policy file is a UsageError (fail closed)."""
    return limits_from_policy(load_risk_policy(root), stage)


def consistency_warnings(limits: RiskLimits) -> list[str]:
    """Limits that cannot all hold together, or that make another limit meaningless."""
    out = []
    sym, tot, order = limits.max_symbol_exposure, limits.max_total_exposure, limits.max_order_notional
    if sym is not None and tot is not None and sym > tot:
        out.append(f"max_symbol_exposure ({sym:.2f}) is above max_total_exposure ({tot:.2f}): "
                   "the total limit binds first, the symbol limit can never be reached")
    if order is not None and sym is not None and order > sym:
        out.append(f"max_order_notional ({order:.2f}) is above max_symbol_exposure ({sym:.2f}): "
                   "an opening order that size is always blocked by the symbol limit")
    if order is not None and tot is not None and order > tot:
        out.append(f"max_order_notional ({order:.2f}) is above max_total_exposure ({tot:.2f})")
    if limits.max_open_positions == 0:
        out.append("max_open_positions is 0: no position can ever be opened")
    if (sym is not None and tot is not None and limits.max_open_positions
            and sym * limits.max_open_positions < tot):
        out.append(f"max_total_exposure ({tot:.2f}) is above max_open_positions x max_symbol_exposure "
                   f"({limits.max_open_positions} x {sym:.2f}): it can never be reached")
    if sym == 0 or tot == 0:
        out.append("an exposure limit is 0: only reducing orders can pass")
    return out


def render_limits(limits: RiskLimits, warnings: list[str]) -> str:
    """The `risk show` text: each enforced limit, each limit not set, each contradiction."""
    cur = limits.base_currency
    lines = [f"Risk limits for stage {limits.stage} (base currency {cur}; daily reset {limits.daily_reset_time} "
             f"{limits.daily_reset_timezone}; warning at {limits.warning_threshold_factor:.0%} of a limit)"]
    for name, value in limits.enforced().items():
        unit = "" if name == "max_open_positions" else " %" if name.endswith("_pct") else f" {cur}"
        shown = f"{value}" if name == "max_open_positions" else f"{value:,.2f}"
        lines.append(f"  {name:<22} {shown:>14}{unit}")
    for name in limits.not_set():
        lines.append(f"  {name:<22} {'not set':>14}  (NOT ENFORCED)")
    for w in warnings:
        lines.append(f"WARNING: {w}")
    return "\n".join(lines)
