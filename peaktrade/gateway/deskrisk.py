"""Desk-wide risk (DESIGN 5): the six limits computed on one account's ledger, never on one session.

The ledger (positions, marks, cash, the trading day's start equity) is the sum of every run of the
account, concurrent and earlier today. Open order intents count with their unfilled quantity, so two
sessions reserving at once cannot both pass a limit that only one of them fits (the store serialises
``reserve``). They count at their worst: an open order may fill or never fill, so a symbol's position is
the larger of "every open buy fills" and "every open sell fills" (never the net of both, which let a
pending sell make room that its rejection would take back: two sessions then held 1,023 EUR under a
700 EUR ``max_total_exposure``). For the order's own symbol the engine sees the worst case on the order's
side; the other side's worst case does not grow with this order. A day halted for its loss stays halted
for every session until the daily reset.

``decide`` is pure and allocation-light: it updates one kept ``Portfolio`` in place (the engine caches
exposure until a position or mark changes), so a decision on a cached ledger costs a few microseconds.
"""

from __future__ import annotations

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.desk.store import Intent, Ledger
from peaktrade.policy.daily import DailyLossTracker
from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.risk import OrderIntent, Portfolio, RiskDecision, RiskEngine

UNLIMITED = RiskDecision(True, "ACTIVE", ["risk limits skipped (--skip-live-risk)"])


def halted_decision(reason: str) -> RiskDecision:
    return RiskDecision(False, "HALTED", [f"daily_loss: the account is halted for today ({reason}); "
                                          "only cancels until the daily reset"])


def pending_sides(ledger: Ledger, open_intents: list[Intent]) -> dict[str, tuple[float, float, float]]:
    """Per symbol with open orders: (position held, unfilled buys, unfilled sells as a negative quantity)."""
    sides: dict[str, list[float]] = {}
    for it in open_intents:
        rest = it.signed_remaining
        entry = sides.get(it.symbol)
        if entry is None:
            pos = ledger.positions.get(it.symbol)
            entry = sides[it.symbol] = [pos.quantity if pos else 0.0, 0.0, 0.0]
        if rest > 0:
            entry[1] += rest
        elif rest < 0:
            entry[2] += rest
    return {sym: (held, buys, sells) for sym, (held, buys, sells) in sides.items()}


def worst_position(held: float, buys: float, sells: float) -> float:
    """The signed position of the larger size among "every open buy fills" and "every open sell fills"."""
    long, short = held + buys, held + sells
    return long if abs(long) >= abs(short) else short


class DeskRisk:
    def __init__(self, limits: RiskLimits, *, clock: Clock = SYSTEM_CLOCK, skip_limits: bool = False):
        self.limits = limits
        self.engine = RiskEngine(limits)
        self.tracker = DailyLossTracker.for_limits(limits, clock)
        self.skip_limits = skip_limits
        self._order = OrderIntent("", "buy", 0.0, None)
        self._portfolio = Portfolio()
        self._day, self._day_at = "", 0.0
        self._seen: tuple | None = None  # which ledger and open intents the kept portfolio was built from
        self._rest: dict[str, tuple[float, float]] = {}
        # symbols with open orders: (position if every open buy fills, if every open sell fills, the worse)
        self._pending: dict[str, tuple[float, float, float]] = {}
        self._monotonic = self.tracker.clock.monotonic  # bound once: the clock is read on every decision

    def trading_day(self) -> str:
        """The trading day now, computed at most once a second (it is on every decision's path): a new day
        begins for the limits within a second of the reset time."""
        tick = self._monotonic()
        if not self._day or tick - self._day_at >= 1.0 or tick < self._day_at:
            self._day, self._day_at = self.tracker.trading_day().isoformat(), tick
        return self._day

    def equity(self, ledger: Ledger, marks: dict[str, float]) -> float:
        total = ledger.cash
        for sym, pos in ledger.positions.items():
            if pos.quantity:
                total += pos.quantity * marks.get(sym, pos.mark if pos.mark is not None else pos.avg_price)
        return total

    def day_start(self, ledger: Ledger, equity: float, day: str) -> float:
        return ledger.day_start_equity if ledger.day == day and ledger.day_start_equity is not None else equity

    def daily_loss_reached(self, ledger: Ledger, marks: dict[str, float]) -> str | None:
        """The reason the account's daily loss reached a limit now, else None (no order needed to see it)."""
        day = self.trading_day()
        equity = self.equity(ledger, marks)
        start = self.day_start(ledger, equity, day)
        loss = start - equity
        lim = self.limits
        if lim.max_daily_loss_abs is not None and loss >= lim.max_daily_loss_abs:
            return f"max_daily_loss_abs reached ({loss:.2f} >= {lim.max_daily_loss_abs:.2f})"
        if lim.max_daily_loss_pct is not None and start > 0 and loss / start * 100 >= lim.max_daily_loss_pct:
            return f"max_daily_loss_pct reached ({loss / start * 100:.2f}% >= {lim.max_daily_loss_pct:.2f}%)"
        return None

    def decide(self, ledger: Ledger, open_intents: list[Intent], *, symbol: str, side: str, quantity: float,
               price: float | None, mark: float) -> RiskDecision:
        tick = self._monotonic()  # trading_day(), inlined: this is the hot path
        if not self._day or tick - self._day_at >= 1.0 or tick < self._day_at:
            self._day, self._day_at = self.tracker.trading_day().isoformat(), tick
        day = self._day
        if ledger.halted_day == day:
            return halted_decision(ledger.halted_reason or "daily loss limit")
        if self.skip_limits:
            return UNLIMITED
        pf = self._portfolio
        positions, marks = pf._positions, pf._marks
        # the store bumps the account's version with every change of its ledger or of its intents
        seen = self._seen
        if seen is None or seen[0] is not ledger or seen[1] != ledger.version or seen[2] != len(open_intents):
            # the ledger or the open intents changed: rebuild the kept portfolio in place
            pending = self._pending
            pending.clear()
            wanted: dict[str, float] = {s: p.quantity for s, p in ledger.positions.items() if p.quantity}
            if open_intents:
                for sym, (held, buys, sells) in pending_sides(ledger, open_intents).items():
                    worst = worst_position(held, buys, sells)
                    pending[sym] = (held + buys, held + sells, worst)
                    wanted[sym] = worst
            for sym in [s for s in positions if s not in wanted]:
                del positions[sym]
            for sym, qty in wanted.items():
                if positions.get(sym) != qty:
                    positions[sym] = qty
            for sym, pos in ledger.positions.items():
                m = pos.mark if pos.mark is not None else pos.avg_price
                if sym != symbol and marks.get(sym) != m:
                    marks[sym] = m
            self._seen = (ledger, ledger.version, len(open_intents))
            self._rest.clear()
        if marks.get(symbol) != mark:
            marks[symbol] = mark
        own = None
        sides = self._pending.get(symbol)
        if sides is not None:  # open orders on this symbol: the worst case on the order's own side
            own = sides[0] if side == "buy" else sides[1]
            if own == sides[2]:
                own = None  # the kept portfolio holds it already
        pf.cash = ledger.cash
        rest = self._rest.get(symbol)
        if rest is None:  # the ledger's equity without this symbol, and its position: per ledger version
            pos = ledger.positions.get(symbol)
            held = pos.quantity if pos else 0.0
            rest = self._rest[symbol] = (self.equity(ledger, {symbol: 0.0}) if held else self.equity(ledger, {}),
                                         held)
        equity = rest[0] + rest[1] * mark
        order = self._order
        order.symbol, order.side, order.quantity, order.price = symbol, side, quantity, price
        start = ledger.day_start_equity  # day_start(), inlined
        if ledger.day != day or start is None:
            start = equity
        return self.engine.check(order, pf, day_start_equity=start, equity=equity, position=own)

