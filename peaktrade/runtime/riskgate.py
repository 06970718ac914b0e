"""The session's pre-trade gate: kill switch + risk engine, failing closed.

No order passes without a decision: if the risk engine or the kill switch cannot be loaded, every
order is blocked with the reason saying so (``risk engine unavailable``, ``kill switch unavailable``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from peaktrade.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from peaktrade.root import Root


@dataclass
class GateDecision:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    state: str = "ACTIVE"


class RiskGate:
    def __init__(self, root: Root, stage: str, *, clock: Clock = SYSTEM_CLOCK, skip_limits: bool = False,
                 log: logging.Logger | None = None):
        self.root, self.stage, self.clock = root, stage, clock
        self.skip_limits = skip_limits
        self.log = log or logging.getLogger("peaktrade.session")
        self._engine = None
        self._daily = None
        self._engine_error: str | None = None
        self._kept: dict[str, tuple] = {}  # symbol -> (OrderIntent, Portfolio), updated in place per check
        if not skip_limits:
            self._load_engine()

    def _load_engine(self) -> None:
        try:
            from peaktrade.policy.daily import DailyLossTracker
            from peaktrade.policy.limits import load_risk_limits
            from peaktrade.policy.risk import RiskEngine

            limits = load_risk_limits(self.root, self.stage)
            self._engine = RiskEngine(limits)
            self._daily = DailyLossTracker.for_limits(limits, clock=self.clock)
        except Exception as exc:  # noqa: BLE001 - any failure to build the engine blocks every order
            self._engine_error = f"{type(exc).__name__}: {exc}"
            self.log.error("[RISK] risk engine unavailable (%s): every order will be blocked", self._engine_error)

    def kill_switch_state(self) -> str | None:
        """ACTIVE | KILLED | RECOVERING, or None if the kill switch cannot be read (fails closed)."""
        try:
            from peaktrade.policy.killswitch import KillSwitch

            return str(KillSwitch(self.root, clock=self.clock).status().state)
        except Exception as exc:  # noqa: BLE001
            self.log.error("[RISK] kill switch unreadable (%s: %s)", type(exc).__name__, exc)
            return None

    def observe(self, equity: float) -> None:
        """Feed every bar's equity, so the daily loss counts from the trading day's first equity."""
        if self._daily is not None:
            self._daily.observe(equity)

    def check(self, *, symbol: str, side: str, quantity: float, price: float, position: float, cash: float,
              equity: float) -> GateDecision:
        ks = self.kill_switch_state()
        if ks is None:
            return self._blocked(["kill switch unavailable"], "HALTED")
        if ks in ("KILLED", "RECOVERING"):
            return self._blocked([f"kill switch {ks}"], "HALTED")
        if self.skip_limits:
            return GateDecision(True, ["risk limits skipped (--skip-live-risk)"])
        if self._engine is None:
            return self._blocked(["risk engine unavailable"], "HALTED")
        try:
            order, portfolio = self._inputs(symbol)
            order.side, order.quantity, order.price = side, quantity, price
            # in place: the engine's cached exposure follows a mark change incrementally and is
            # recomputed when the position changed (a version counter in the dicts)
            if portfolio.positions.get(symbol) != position:
                portfolio.positions[symbol] = position
            if portfolio.marks.get(symbol) != price:
                portfolio.marks[symbol] = price
            portfolio.cash = cash
            decision = self._engine.check(order, portfolio, day_start_equity=self._daily.observe(equity),
                                          equity=equity, kill_switch_state=ks)
        except Exception as exc:  # noqa: BLE001 - an engine failure must not let the order through
            return self._blocked([f"risk engine error: {type(exc).__name__}: {exc}"], "HALTED")
        reasons = [str(r) for r in decision.reasons]
        if not decision.allowed:
            return self._blocked(reasons or ["blocked"], str(decision.state))
        return GateDecision(True, reasons, str(decision.state))

    def _inputs(self, symbol: str):
        """The order and one-symbol portfolio the engine reads for ``symbol``, kept across checks.

        The same portfolio as a fresh ``Portfolio({symbol: position}, {symbol: price}, cash)`` per
        check (only this symbol, the session's position and the bar's price as the mark), without
        building one and a cold exposure cache for every order."""
        kept = self._kept.get(symbol)
        if kept is None:
            from peaktrade.policy.risk import OrderIntent, Portfolio

            kept = self._kept[symbol] = (OrderIntent(symbol, "buy", 0.0, None), Portfolio())
        return kept

    def _blocked(self, reasons: list[str], state: str) -> GateDecision:
        self.log.warning("[RISK] Order blocked: %s", "; ".join(reasons))
        return GateDecision(False, reasons, state)


def skip_allowed(mode: str) -> bool:
    """``--skip-live-risk`` exists for shadow and testnet only (DESIGN 5)."""
    try:
        from peaktrade.policy.risk import skip_allowed as policy_skip_allowed
    except Exception:  # noqa: BLE001 - the rule is simple enough to hold here too
        return mode in ("shadow", "testnet")
    return bool(policy_skip_allowed(mode)) and mode in ("shadow", "testnet")
