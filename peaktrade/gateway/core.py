"""The order gateway (DESIGN 6): the one road an order takes, whoever sends it.

Sessions, go-live, the smoke test, previews, cancel-all and liquidation all call ``Gateway``. In order:

1. the kill switch (one fail-closed read; cancels and risk-reducing liquidation pass an engaged switch);
2. the live gate, for the live account (a callback the caller cannot leave out: None = refused);
3. an intent already recorded under this client order id (a resumed play, a restarted worker) is
   reconciled, never sent again; an unresolved intent of the same symbol makes new orders wait;
4. the risk decision on the account's desk ledger, and the durable intent, in one store transaction
   (``reserve``), with a deterministic client order id (origin + step key);
5. submit; a definite rejection releases the reservation, an unknown outcome stays ``unknown`` and is
   reconciled by client id, never resubmitted; fills are booked into the ledger as they are seen.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.desk import open_desk
from peaktrade.desk.killswitch import read_kill_switch, status_of
from peaktrade.desk.store import INTENT_OPEN, DeskStore, Intent, Ledger
from peaktrade.errors import PeakTradeError
from peaktrade.exchange.base import (
    ExchangeAuthenticationError,
    ExchangeError,
    ExchangeOrderError,
    ExchangeOrderStateUnknown,
    ExchangeRateLimitError,
    Order,
)
from peaktrade.gateway.deskrisk import DeskRisk
from peaktrade.gateway.venues import PaperFill, Venue
from peaktrade.policy.limits import RiskLimits
from peaktrade.policy.risk import RiskDecision
from peaktrade.root import Root

ACCOUNTS = {"shadow": "paper", "paper": "paper", "testnet": "testnet", "live": "live"}
DEADMAN_S = 60  # Kraken cancels every open order this long after the last re-arm
DEADMAN_REFRESH_S = 15.0
# an order request not found at the exchange this long after it was sent never landed (Kraken applies a
# request within seconds or not at all; the adapter's own timeout is 10 s)
LANDING_WINDOW_S = 120.0
# a held position's mark in the desk ledger follows the market in steps of this fraction (0.5 %): every other
# session of the account values the position at that mark in its exposure and daily-loss figures
MARK_STEP = 0.005
LIVE_GATE_MISSING = "live gate not checked by the caller: refused"


def account_for(mode: str) -> str:
    return ACCOUNTS[mode]


def client_order_id(origin: str, step_key: str) -> str:
    """Deterministic: the same run bar or play step always gets the same id (18 chars, Kraken's cl_ord_id)."""
    return "pt" + hashlib.sha256(f"{origin}|{step_key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str
    quantity: float
    mark: float
    origin: str  # run id or play id
    step_key: str  # bar step or step id: with origin, the client order id
    price: float | None = None  # limit price; None = market
    reduce_only: bool = False  # liquidation: only ever shrinks |position|


@dataclass
class OrderOutcome:
    status: str  # filled | open | rejected | blocked | unknown | validated
    client_order_id: str | None
    reasons: list[str] = field(default_factory=list)
    fills: list[PaperFill] = field(default_factory=list)
    fatal: bool = False  # authentication failure: the caller halts
    order: Order | None = None
    state: str = "ACTIVE"

    @property
    def allowed(self) -> bool:
        return self.status != "blocked"

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "client_order_id": self.client_order_id, "reasons": self.reasons,
                "filled": sum(f.quantity for f in self.fills), "order_id": getattr(self.order, "id", None)}


class Gateway:
    def __init__(self, root: Root, *, account: str, venue: Venue, limits: RiskLimits, clock: Clock = SYSTEM_CLOCK,
                 log: logging.Logger | None = None, live_gate: Callable[[], str | None] | None = None,
                 skip_limits: bool = False, starting_cash: float = 10_000.0, store: DeskStore | None = None,
                 landing_window_s: float = LANDING_WINDOW_S):
        if skip_limits and account == "live":
            raise PeakTradeError("--skip-live-risk is refused for the live account")
        self.root, self.account, self.venue, self.clock = root, account, venue, clock
        self.log = log or logging.getLogger("peaktrade.gateway")
        self.live_gate = live_gate
        self.landing_window_s = landing_window_s
        self._store = store
        self._sticky: DeskStore | None = None  # the store looked up once for the order being submitted
        self.risk = DeskRisk(limits, clock=clock, skip_limits=skip_limits)
        self.store.ensure_account(account, cash=starting_cash)
        self._ledger: Ledger | None = None
        self._marker: int | None = None
        self._marks: dict[str, float] = {}
        self._armed_at: float | None = None
        self._tripped = False

    @property
    def store(self) -> DeskStore:
        """The desk state, asked for each time (once per order): a file replaced under a running session is
        never read stale."""
        return self._store or self._sticky or open_desk(self.root)

    # -- reads ----------------------------------------------------------------------------------------
    def ledger(self) -> Ledger:
        """The account's ledger, cached until another process (or this one) commits a change."""
        marker = self.store.change_marker()
        if self._ledger is None or marker != self._marker:
            self._ledger = self.store.ledger(self.account)
            self._marker = marker
        return self._ledger  # type: ignore[return-value]

    def _invalidate(self) -> None:
        self._ledger = None

    def _blocked(self, cid: str | None, reasons: list[str], state: str = "HALTED") -> OrderOutcome:
        self.log.warning("[RISK] Order blocked: %s", "; ".join(reasons))
        return OrderOutcome("blocked", cid, reasons, state=state)

    def _gate(self, reduce_only: bool) -> list[str]:
        """Kill switch, then the live gate: the reasons this order may not go out (empty = it may)."""
        ks = read_kill_switch(self.root, self.clock)
        if ks.blocks_orders and not reduce_only:  # the first reason is exact: alerts tell held-back orders by it
            return [f"kill switch {ks.word}"] + ([] if ks.readable else [str(ks.reason)])
        if self.account == "live" and not reduce_only:
            why = self.live_gate() if self.live_gate is not None else LIVE_GATE_MISSING
            if why:
                return [why]
        return []

    # -- the day --------------------------------------------------------------------------------------
    def observe(self, symbol: str, mark: float) -> None:
        """Each bar: the mark, the trading day's start, and the daily-loss halt (without waiting for an order)."""
        self._marks[symbol] = mark
        ledger = self.ledger()
        held = ledger.positions.get(symbol)
        moved = held is None or held.mark is None or (held.quantity and abs(mark - held.mark) >= MARK_STEP * held.mark)
        if moved and 0.0 < mark < math.inf:  # an invalid mark never reaches the ledger (the order refuses it)
            # the other sessions of the account value this position at the ledger's mark: keep it current (and
            # known before the symbol's first fill, or its open orders would leave their decisions without one)
            self.store.set_marks(self.account, {symbol: mark})
            self._invalidate()
            ledger = self.ledger()
        day = self.risk.trading_day()
        if ledger.day != day:
            self.store.set_day(self.account, day=day, day_start_equity=self.risk.equity(ledger, self._marks))
            self._invalidate()
            ledger = self.ledger()
        if ledger.halted_day == day or self.risk.skip_limits:
            return
        reason = self.risk.daily_loss_reached(ledger, self._marks)
        if reason:
            self.store.halt_day(self.account, day=day, reason=reason)
            self._invalidate()
            self.log.error("[RISK] account %s HALTED for today: %s", self.account, reason)

    # -- orders ---------------------------------------------------------------------------------------
    def submit(self, req: OrderRequest) -> OrderOutcome:
        self._sticky = None
        try:
            self._sticky = self.store
        except PeakTradeError:  # unreadable: the kill-switch read below says so and blocks (fail closed)
            pass
        try:
            return self._submit(req)
        finally:
            self._sticky = None

    def _submit(self, req: OrderRequest) -> OrderOutcome:
        cid = client_order_id(req.origin, req.step_key)
        refused = self._gate(req.reduce_only)
        if refused:
            return self._blocked(cid, refused)
        existing = self.store.get_intent(cid)
        if existing is not None:  # seen before (resume, restart): reconcile, never send again
            return self.reconcile(existing, mark=req.mark)
        waiting = [i for i in self.store.open_intents(self.account) if i.symbol == req.symbol and i.status == "unknown"]
        for intent in waiting:
            self.reconcile(intent, mark=req.mark)
        still = [i.client_order_id for i in self.store.open_intents(self.account)
                 if i.symbol == req.symbol and i.status == "unknown"] if waiting else []
        if still:
            return self._blocked(cid, [f"order state unknown for intent {', '.join(still)}: new {req.symbol} orders "
                                       "wait until it is reconciled (runbook 7)"], "ACTIVE")
        self.observe(req.symbol, req.mark)
        now = utc_iso(self.clock.now())
        intent = Intent(cid, self.account, req.symbol, req.side, req.quantity, req.price,
                        "market" if req.price is None else "limit", req.origin, req.step_key, "reserved",
                        created_at=now, updated_at=now)
        holder: list[RiskDecision] = []

        def decide(ledger: Ledger, open_intents: list[Intent]) -> tuple[bool, Any]:
            # the switch again, inside the reservation's transaction: nothing is reserved after an engage
            if not req.reduce_only and status_of(self.store.kill_switch(), self.clock).blocks_orders:
                return False, RiskDecision(False, "HALTED", ["kill switch engaged"])
            if req.reduce_only:
                return self._reduces(ledger, open_intents, req)
            decision = self.risk.decide(ledger, open_intents, symbol=req.symbol, side=req.side,
                                        quantity=req.quantity, price=req.price, mark=req.mark)
            holder[:] = [decision]  # the last one: a reservation that lost a race decides again
            return decision.allowed, decision

        ok, info = self.store.reserve(intent, decide)
        self._invalidate()
        if not ok:
            reasons = list(info.reasons) if isinstance(info, RiskDecision) else [str(info)]
            state = info.state if isinstance(info, RiskDecision) else "ACTIVE"
            if holder and holder[0].state == "HALTED" and any(r.startswith("max_daily_loss") for r in reasons):
                self.store.halt_day(self.account, day=self.risk.trading_day(), reason=reasons[0])
            return self._blocked(cid, reasons or ["blocked"], state)
        out = self._send(intent, req)
        if holder:  # what the decision said about an allowed order (e.g. limits skipped) stays with it
            out.reasons = [str(r) for r in holder[0].reasons] + out.reasons
            out.state = str(holder[0].state)
        return out

    def _reduces(self, ledger: Ledger, open_intents: list[Intent], req: OrderRequest) -> tuple[bool, str]:
        # the position as it stands if every open order on the same side fills and none on the other does
        # (an open buy may never fill: a liquidating sell must not count on it)
        pos = ledger.positions.get(req.symbol)
        qty = (pos.quantity if pos else 0.0) + sum(
            r for r in (i.signed_remaining for i in open_intents if i.symbol == req.symbol)
            if (r > 0) == (req.side == "buy"))
        after = qty + (req.quantity if req.side == "buy" else -req.quantity)
        if abs(after) < abs(qty) - 1e-12 and (after == 0 or (after > 0) == (qty > 0)):
            return True, "reduces the position"
        return False, (f"liquidation refused: {req.side} {req.quantity:g} {req.symbol} does not reduce the "
                       f"position {qty:g}")

    def _send(self, intent: Intent, req: OrderRequest) -> OrderOutcome:
        cid = intent.client_order_id
        try:
            order = self.venue.place(req.symbol, req.side, intent.order_type, req.quantity, req.price,
                                     client_order_id=cid, mark=req.mark)
        except ExchangeAuthenticationError as exc:
            self._final(cid, "rejected", f"authentication failed: {exc}")
            return OrderOutcome("rejected", cid, [f"authentication failed: {exc}"], fatal=True)
        except ExchangeOrderError as exc:
            self._final(cid, "rejected", f"order rejected: {exc}")
            return OrderOutcome("rejected", cid, [f"order rejected: {exc}"])
        except ExchangeRateLimitError as exc:  # Kraken refused it before placing (EOrder/EAPI rate limit, lockout)
            self._final(cid, "rejected", f"not placed (rate limited): {exc}")
            return OrderOutcome("rejected", cid, [f"not placed, rate limited: {exc}"])
        except (ExchangeOrderStateUnknown, ExchangeError) as exc:  # timeout, 5xx, API: it may or may not exist
            self.store.update_intent(cid, status="unknown", reason=f"{type(exc).__name__}: {exc}",
                                     updated_at=utc_iso(self.clock.now()))
            self.log.error("[ORDER] outcome of %s unknown (%s: %s): reconciling by client id, never resubmitting",
                           cid, type(exc).__name__, exc)
            return self.reconcile(self.store.get_intent(cid), mark=req.mark)  # type: ignore[arg-type]
        if not getattr(order, "id", None) and not getattr(order, "validated_only", False):
            self.store.update_intent(cid, status="unknown", reason="the exchange reply carried no order id")
            return self.reconcile(self.store.get_intent(cid), mark=req.mark)  # type: ignore[arg-type]
        return self._book(self.store.get_intent(cid), order, req.mark)  # type: ignore[arg-type]

    def _final(self, cid: str, status: str, reason: str) -> None:
        self.store.update_intent(cid, status=status, reason=reason[:500], updated_at=utc_iso(self.clock.now()))
        self._invalidate()

    def reconcile(self, intent: Intent, *, mark: float | None = None) -> OrderOutcome:
        """Resolve an intent from what the venue knows about its client id; unknown stays unknown."""
        cid = intent.client_order_id
        if intent.status not in INTENT_OPEN:
            return OrderOutcome(intent.status, cid, [f"intent {cid} already {intent.status} (not sent again)"])
        try:
            order = self.venue.lookup(cid)
        except ExchangeError as exc:
            self.store.update_intent(cid, status="unknown", reason=f"lookup failed: {exc}")
            return OrderOutcome("unknown", cid, [f"order state unknown: lookup of {cid} failed ({exc}); "
                                                 "not resubmitted"])
        if order is None:
            if intent.status == "reserved" and self.venue.paper:
                # a paper fill is made in this process: a reservation without one never filled
                self._final(cid, "not_placed", "paper order never filled (process ended first)")
                return OrderOutcome("rejected", cid, [f"intent {cid} was never placed"])
            age = self._age_s(intent)
            if age is not None and age > self.landing_window_s:
                # a request that has not landed this long after it was sent never will: the intent is
                # closed as not placed (and its reservation released); it was never sent again
                self._final(cid, "not_placed", f"not found at the exchange {age:.0f} s after it was sent: it never "
                                               "landed")
                self.log.warning("[ORDER] intent %s closed as not placed: not found %.0f s after it was sent", cid, age)
                return OrderOutcome("rejected", cid, [f"intent {cid} never landed (not found {age:.0f} s later)"])
            self.store.update_intent(cid, status="unknown", reason="not found at the exchange (yet)",
                                     updated_at=utc_iso(self.clock.now()))
            return OrderOutcome("unknown", cid, [f"order state unknown: {cid} not found at the exchange; "
                                                 "not resubmitted (it may still land)"])
        return self._book(intent, order, mark)

    def _age_s(self, intent: Intent) -> float | None:
        try:
            sent = datetime.fromisoformat(intent.created_at.replace("Z", "+00:00"))
        except (ValueError, AttributeError):
            return None
        return (self.clock.now() - sent).total_seconds()

    def _book(self, intent: Intent, order: Order, mark: float | None) -> OrderOutcome:
        cid = intent.client_order_id
        filled = float(getattr(order, "filled", 0.0) or 0.0)
        status = {"closed": "filled", "open": "open", "canceled": "canceled", "expired": "expired",
                  "rejected": "rejected", "pending": "open"}.get(str(order.status), "open")
        if status == "filled" and filled < intent.quantity - 1e-12:
            status = "canceled" if filled > 0 else "rejected"
        fills: list[PaperFill] = []
        delta = filled - intent.filled
        if delta > 1e-12:
            price = float(order.average or order.price or mark or 0.0)
            fee_total = float(order.fee or 0.0)
            fee = max(fee_total - intent.fee, 0.0)
            self.store.apply_fill(cid, quantity=delta, price=price, fee=fee, at=utc_iso(self.clock.now()),
                                  status=status, exchange_order_id=str(order.id) if order.id else None)
            fills.append(PaperFill(delta, price, fee))
        else:
            self.store.update_intent(cid, status=status, exchange_order_id=str(order.id) if order.id else None,
                                     updated_at=utc_iso(self.clock.now()))
        self._invalidate()
        reasons = [] if status in ("filled", "open") else [f"order {order.id or cid} {order.status}"]
        return OrderOutcome(status, cid, reasons, fills, order=order)

    def refresh(self, origin: str, *, mark: float | None = None) -> list[PaperFill]:
        """Book fills of this origin's open intents seen since the last look (partial fills, late landings)."""
        fills: list[PaperFill] = []
        for intent in self.store.open_intents(self.account):
            if intent.origin == origin and not self.venue.paper:
                fills += self.reconcile(intent, mark=mark).fills
        return fills

    def decide(self, req: OrderRequest) -> tuple[RiskDecision, str | None]:
        """What-if: the decision this order would get now (kill switch, desk risk); nothing reserved or sent,
        so the live gate is not asked (an order would still need it)."""
        ks = read_kill_switch(self.root, self.clock)
        refused = [f"kill switch {ks.word}"] if ks.blocks_orders else []
        if refused:
            return RiskDecision(False, "HALTED", refused), refused[0]
        ledger = self.ledger()
        return self.risk.decide(ledger, self.store.open_intents(self.account), symbol=req.symbol, side=req.side,
                                quantity=req.quantity, price=req.price, mark=req.mark), None

    def preview(self, req: OrderRequest) -> OrderOutcome:
        """A validate-only order: kill switch, live gate and risk decision (nothing reserved), then validate."""
        cid = client_order_id(req.origin, req.step_key)
        refused = self._gate(False)
        if refused:
            return self._blocked(cid, refused)
        ledger = self.ledger()
        decision = self.risk.decide(ledger, self.store.open_intents(self.account), symbol=req.symbol,
                                    side=req.side, quantity=req.quantity, price=req.price, mark=req.mark)
        if not decision.allowed:
            return self._blocked(cid, list(decision.reasons), decision.state)
        order = self.venue.validate(req.symbol, req.side, "market" if req.price is None else "limit", req.quantity,
                                    req.price, client_order_id=cid)
        return OrderOutcome("validated", cid, [], order=order)

    def cancel(self, intent: Intent) -> OrderOutcome:
        """Cancel one of our open orders (allowed while the kill switch is engaged)."""
        if intent.exchange_order_id:
            self.venue.cancel(intent.exchange_order_id, intent.symbol)
        out = self.reconcile(intent)
        if out.status == "open":
            self._final(intent.client_order_id, "canceled", "canceled")
            out.status = "canceled"
        return out

    def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order of the account at the venue (allowed while the kill switch is engaged)."""
        n = self.venue.cancel_all(symbol)
        for intent in self.store.open_intents(self.account):
            if symbol is None or intent.symbol == symbol:
                self.reconcile(intent)
        return n

    def heartbeat(self, symbol: str) -> str | None:
        """Each bar of a session on a real exchange: keep Kraken's dead-man timer armed while the kill switch
        is released (a session that hangs or dies leaves no order open for long); once it is engaged, cancel
        this symbol's open orders at once and stop re-arming. Returns what it did, if anything."""
        if self.venue.paper or not hasattr(self.venue, "arm_deadman"):
            return None
        ks = read_kill_switch(self.root, self.clock)
        try:
            if ks.blocks_orders:
                if self._tripped:
                    return None
                self._tripped = True
                n = self.venue.cancel_all(symbol)
                return f"kill switch {ks.word}: {n} open {symbol} order(s) cancelled, dead-man timer not re-armed"
            self._tripped = False
            now = self.clock.monotonic()
            if self._armed_at is None or now - self._armed_at >= DEADMAN_REFRESH_S:
                armed = self.venue.arm_deadman(DEADMAN_S)  # type: ignore[attr-defined]
                self._armed_at = now
                if armed.get("armed"):
                    return f"dead-man timer armed for {DEADMAN_S} s"
        except ExchangeError as exc:
            self.log.warning("[ORDER] dead-man timer / cancel failed: %s", exc)
        return None

    def drift(self, symbol: str) -> list[str]:
        """The desk ledger against what the exchange reports for this symbol's two currencies (empty = equal).
        Only for a venue whose balances are the account's (a real exchange placing orders)."""
        if not getattr(self.venue, "reconcilable", False):
            return []
        base, quote = symbol.split("/")
        balances = self.venue.balances()  # type: ignore[attr-defined]
        ledger = self.store.ledger(self.account)
        pos = ledger.positions.get(symbol) if ledger else None
        held = pos.quantity if pos else 0.0
        found = []
        if abs(balances.get(base, 0.0) - held) > 1e-8 * max(1.0, abs(held)):
            found.append(f"position_drift: {base} ledger {held:.8f} vs exchange {balances.get(base, 0.0):.8f}")
        cash = ledger.cash if ledger else 0.0
        if abs(balances.get(quote, 0.0) - cash) > 0.01:
            found.append(f"position_drift: {quote} ledger {cash:.2f} vs exchange {balances.get(quote, 0.0):.2f}")
        return found

    def sync_from(self, balances: dict[str, float], *, quote: str, marks: dict[str, float]) -> None:
        """Live: the ledger starts from (and is reconciled with) what the exchange reports."""
        positions = {f"{cur}/{quote}": qty for cur, qty in balances.items() if cur != quote}
        self.store.sync_account(self.account, cash=float(balances.get(quote, 0.0)), positions=positions, marks=marks)
        self._invalidate()
