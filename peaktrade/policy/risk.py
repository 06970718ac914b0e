"""The pre-trade risk engine (DESIGN 5). Pure Python, no I/O, built for ~1 µs checks.

Semantics (exact):
* order and exposure limits compare the state *after* the order, breach = strictly greater;
* an order that reduces its symbol's |position| passes both exposure limits (never the notional one);
* ``max_open_positions`` blocks only orders that open a new symbol;
* daily loss (abs and %) breaches at-or-above and halts trading: every new order blocked;
* NaN, infinite, non-positive or missing inputs fail closed with reason ``invalid_input``.

Trading states: HALTED while the kill switch is not ACTIVE or a daily-loss limit is reached (no new
orders, cancels only); REDUCING while the portfolio's total exposure is already above
``max_total_exposure`` (any order that is not reducing is blocked by that limit anyway); else ACTIVE.

Speed: the limits are unpacked once per engine; the portfolio caches its gross exposure and open
position count until a position or mark changes; the per-limit breakdown (``decision.checks``) and
warnings are computed only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.portfolio import INF, Portfolio

__all__ = ["INF", "LimitCheck", "OrderIntent", "Portfolio", "RiskDecision", "RiskEngine", "format_blocked",
           "skip_allowed"]

_ZERO = 1e-12  # an order leaving |position| below this closes it (float residue of closing trades)


@dataclass(slots=True)
class OrderIntent:
    symbol: str
    side: str  # "buy" | "sell"
    quantity: float
    price: float | None = None  # limit price; None = market at the mark


@dataclass(frozen=True, slots=True)
class LimitCheck:
    name: str
    value: float
    limit: float | None  # None = not enforced
    level: str  # ok | warning | breach | not_set
    blocking: bool = False  # a breach that blocks this order (a reducing order passes exposure breaches)


class RiskDecision(tuple):
    """allowed, state, reasons; ``checks`` and ``warnings`` are computed from the raw values on access.

    A tuple underneath: building one is the largest fixed cost of a check, and a tuple is the cheapest.
    """

    __slots__ = ()

    def __new__(cls, allowed: bool, state: str, reasons: list[str], engine: RiskEngine | None = None,
                values: tuple | None = None):
        return tuple.__new__(cls, (allowed, state, reasons, engine, values))

    allowed = property(itemgetter(0), doc="True if the order may be sent")
    state = property(itemgetter(1), doc="ACTIVE | REDUCING | HALTED")
    reasons = property(itemgetter(2), doc="one line per breached limit (or invalid input)")

    @property
    def codes(self) -> list[str]:
        """The limit (or ``invalid_input`` / ``kill_switch``) behind each reason."""
        return [r.split(" ", 1)[0].rstrip(":") for r in self.reasons]

    @property
    def checks(self) -> list[LimitCheck]:
        engine, values = self[3], self[4]
        return engine._breakdown(values) if engine is not None and values else []

    @property
    def warnings(self) -> list[LimitCheck]:
        return [c for c in self.checks if c.level == "warning"]

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "state": self.state, "reasons": list(self.reasons),
                "checks": [{"name": c.name, "value": c.value, "limit": c.limit, "level": c.level,
                            "blocking": c.blocking} for c in self.checks]}

    def __repr__(self) -> str:
        return f"RiskDecision(allowed={self.allowed}, state={self.state!r}, reasons={self.reasons!r})"


_decision = tuple.__new__  # RiskDecision without the __new__ call, for the hot path


def format_blocked(decision: RiskDecision) -> str:
    """The line the runtime logs for a blocked order (seed runbook 8)."""
    return "[RISK] Order blocked: " + "; ".join(decision.reasons)


def skip_allowed(mode: str) -> bool:
    """``--skip-live-risk`` is for shadow (paper) and testnet only; never live, never an unknown mode."""
    return mode in ("shadow", "paper", "testnet")


def _invalid(why: str) -> RiskDecision:
    return RiskDecision(False, "ACTIVE", [f"invalid_input: {why}"])


# Binary floating point makes 0.7 x 100 = 70.00000000000001: "> limit" and ">= limit" are compared with
# a relative tolerance of one part per billion, so a value a human computes as exactly at the limit is
# treated as at the limit (never more than 1e-9 x limit of slack).
_TOL = 1e-9


def _above(limit: float | None) -> float | None:
    return None if limit is None else limit * (1.0 + _TOL) if limit > 0 else limit + _TOL


def _at_least(limit: float | None) -> float | None:
    return None if limit is None else limit * (1.0 - _TOL)


class RiskEngine:
    def __init__(self, limits: RiskLimits, warning_factor: float | None = None):
        self.limits = limits
        self.warning_factor = limits.warning_threshold_factor if warning_factor is None else warning_factor
        self._order = limits.max_order_notional
        self._sym = limits.max_symbol_exposure
        self._tot = limits.max_total_exposure
        self._open = limits.max_open_positions
        self._loss_abs = limits.max_daily_loss_abs
        self._loss_pct = limits.max_daily_loss_pct
        # the thresholds actually compared (see _TOL); messages show the limits as written
        self._order_t, self._sym_t, self._tot_t = _above(self._order), _above(self._sym), _above(self._tot)
        self._loss_abs_t, self._loss_pct_t = _at_least(self._loss_abs), _at_least(self._loss_pct)

    def check(self, order: OrderIntent, portfolio: Portfolio, *, day_start_equity: float, equity: float,
              kill_switch_state: str = "ACTIVE", position: float | None = None) -> RiskDecision:
        """The decision on ``order`` against ``portfolio``. ``position``: the order's symbol's position to
        decide on instead of the portfolio's (the desk's risk puts it on the order's side of its open orders,
        see ``peaktrade.gateway.deskrisk``); the portfolio's figures are moved by the difference."""
        if kill_switch_state != "ACTIVE":  # nothing passes, whatever the inputs
            return RiskDecision(False, "HALTED", [f"kill_switch {kill_switch_state}: no new orders"])
        try:
            qty, price, sym = order.quantity, order.price, order.symbol
            if not (0.0 < qty < INF):
                return _invalid(f"quantity is {qty!r}")
            side = order.side
            if side == "buy":
                delta = qty
            elif side == "sell":
                delta = -qty
            else:
                return _invalid(f"side is {side!r}, not buy or sell")
            mark = portfolio._marks.get(sym)
            if mark is None or not (0.0 < mark < INF):
                return _invalid(f"mark price for {sym} is {'missing' if mark is None else repr(mark)}")
            if price is None:
                price = mark
            elif not (0.0 < price < INF):
                return _invalid(f"limit price is {price!r}")
            if not (0.0 < day_start_equity < INF):
                return _invalid(f"day start equity is {day_start_equity!r}")
            if not (0.0 < equity < INF):
                return _invalid(f"equity is {equity!r}")
            marks = portfolio._marks
            c = marks.cache
            if c is not None and c[1] == marks.version and c[0] == portfolio._positions.version:
                gross, n_open, bad = c[2], c[3], c[4]  # the common case, without a method call
            else:
                gross, n_open, bad = portfolio.stats()
            if bad is not None:
                return _invalid(bad)
            pos = portfolio._positions.get(sym, 0.0)
            if position is not None:
                if not (-INF < position < INF):
                    return _invalid(f"position of {sym} is {position!r}")
                gross += (abs(position) - abs(pos)) * mark
                n_open += (position != 0.0) - (pos != 0.0)
                pos = position
        except TypeError as exc:
            return _invalid(f"non-numeric input ({exc})")

        loss = day_start_equity - equity
        loss_pct = loss / day_start_equity * 100.0
        if (self._loss_abs_t is not None and loss >= self._loss_abs_t) or (
                self._loss_pct_t is not None and loss_pct >= self._loss_pct_t):
            return self._halted(loss, loss_pct, qty * price, gross, n_open)

        new_pos = pos + delta
        old_abs, new_abs = abs(pos), abs(new_pos)
        if new_abs <= _ZERO:
            new_abs = 0.0
        reducing = new_abs < old_abs
        opening = pos == 0.0
        notional = qty * price
        sym_exp = new_abs * mark
        tot_exp = gross - old_abs * mark + sym_exp
        n_after = n_open + (1 if opening else 0) - (1 if new_abs == 0.0 and not opening else 0)
        reasons: list[str] = []
        if self._order_t is not None and notional > self._order_t:
            reasons.append(f"max_order_notional exceeded ({notional:.2f} > {self._order:.2f})")
        if self._sym_t is not None and sym_exp > self._sym_t and not reducing:
            reasons.append(f"max_symbol_exposure exceeded ({sym_exp:.2f} > {self._sym:.2f})")
        if self._tot_t is not None and tot_exp > self._tot_t and not reducing:
            reasons.append(f"max_total_exposure exceeded ({tot_exp:.2f} > {self._tot:.2f})")
        if self._open is not None and opening and n_after > self._open:
            reasons.append(f"max_open_positions exceeded ({n_after} > {self._open})")
        state = "REDUCING" if self._tot_t is not None and gross > self._tot_t else "ACTIVE"
        return _decision(RiskDecision, (not reasons, state, reasons, self,
                            (notional, sym_exp, tot_exp, n_after, loss, loss_pct, reducing, opening)))

    def _halted(self, loss: float, loss_pct: float, notional: float, gross: float, n_open: int) -> RiskDecision:
        reasons = []
        if self._loss_abs_t is not None and loss >= self._loss_abs_t:
            reasons.append(f"max_daily_loss_abs reached ({loss:.2f} >= {self._loss_abs:.2f})")
        if self._loss_pct_t is not None and loss_pct >= self._loss_pct_t:
            reasons.append(f"max_daily_loss_pct reached ({loss_pct:.2f} >= {self._loss_pct:.2f})")
        return _decision(RiskDecision, (False, "HALTED", reasons, self,
                                        (notional, None, gross, n_open, loss, loss_pct, False, False)))

    def _level(self, value: float | None, limit: float | None, *, at_or_above: bool) -> str:
        if limit is None:
            return "not_set"
        if value is None:
            return "ok"
        if (value >= _at_least(limit)) if at_or_above else (value > _above(limit)):
            return "breach"
        return "warning" if value >= self.warning_factor * limit else "ok"

    def _breakdown(self, v: tuple) -> list[LimitCheck]:
        notional, sym_exp, tot_exp, n_after, loss, loss_pct, reducing, opening = v
        rows = [("max_order_notional", notional, self._order, False, True),
                ("max_symbol_exposure", sym_exp, self._sym, False, not reducing),
                ("max_total_exposure", tot_exp, self._tot, False, not reducing),
                ("max_open_positions", n_after, self._open, False, opening),
                ("max_daily_loss_abs", loss, self._loss_abs, True, True),
                ("max_daily_loss_pct", loss_pct, self._loss_pct, True, True)]
        out = []
        for name, value, limit, at_or_above, can_block in rows:
            level = self._level(value, limit, at_or_above=at_or_above)
            out.append(LimitCheck(name, value if value is not None else float("nan"), limit, level,
                                  level == "breach" and can_block))
        return out
