"""A session's orders, through the order gateway (the only road to an exchange).

The session asks for an order on a bar; the gateway decides (kill switch, live gate, desk-wide risk),
records the intent with a client order id made of the run id and the bar step, sends it, and reports
what filled. Fills that arrive later (partial fills, an order that landed after a timeout) are picked
up by ``settle`` on the next bars, so the run's book follows the exchange; ``settle`` also keeps the
exchange's dead-man timer armed, compares the desk ledger with the account every few bars, and stops
the session when an unknown order outcome stays unresolved too long.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peaktrade.errors import PeakTradeError
from peaktrade.gateway import Gateway, OrderRequest
from peaktrade.runtime.book import Fill

UNKNOWN_BARS = 10  # bars an unknown order outcome may stay unresolved before the session stops
RECONCILE_EVERY = 20  # bars between two comparisons of the desk ledger with the account


@dataclass
class Placed:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    rejected: bool = False
    error: str | None = None
    fatal: bool = False
    state: str = "ACTIVE"


@dataclass
class Settled:
    fills: list[Fill] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    fatal: str | None = None


class SessionOrders:
    def __init__(self, gateway: Gateway, run_id: str, symbol: str, *, unknown_bars: int = UNKNOWN_BARS,
                 reconcile_every: int = RECONCILE_EVERY):
        self.gateway, self.run_id, self.symbol = gateway, run_id, symbol
        self.unknown_bars, self.reconcile_every = unknown_bars, reconcile_every
        self._unknown: dict[str, int] = {}
        self._bars = 0

    def observe(self, mark: float) -> None:
        try:
            self.gateway.observe(self.symbol, mark)
        except PeakTradeError as exc:  # the next order fails closed on the same problem; the bar goes on
            self.gateway.log.error("[RISK] desk state not updated: %s", exc.message)

    def place(self, side: str, quantity: float, mark: float, step: int) -> Placed:
        try:
            out = self.gateway.submit(OrderRequest(self.symbol, side, quantity, mark, self.run_id, f"bar-{step}"))
        except PeakTradeError as exc:  # the desk state cannot be read or written: blocked, never sent
            self.gateway.log.warning("[RISK] Order blocked: desk state unavailable: %s", exc.message)
            return Placed(False, [f"desk state unavailable: {exc.message}"], state="HALTED")
        fills = [Fill(side, f.quantity, f.price, f.fee) for f in out.fills]
        if out.status == "blocked":
            return Placed(False, out.reasons, state=out.state)
        if out.status == "rejected":
            return Placed(True, out.reasons, fills, rejected=True, error=out.message, fatal=out.fatal)
        if out.status == "unknown":
            return Placed(True, out.reasons, fills, error=out.message)
        return Placed(True, out.reasons, fills, state=out.state)

    def settle(self, mark: float) -> Settled:
        """Each bar, before the strategy's order: book what earlier orders did since (partial fills, late
        landings), keep the dead-man timer armed, compare the ledger with the account now and then, and stop
        the session when an unknown order outcome outlived its bound."""
        out = Settled()
        try:
            note = self.gateway.heartbeat(self.symbol)
            if note:
                out.notes.append(note)
            if self.gateway.venue.paper:
                return out
            for intent in self.gateway.store.open_intents(self.gateway.account):
                if intent.origin != self.run_id:
                    continue
                for f in self.gateway.reconcile(intent, mark=mark).fills:
                    out.fills.append(Fill(intent.side, f.quantity, f.price, f.fee))
            self._bars += 1
            still = {i.client_order_id for i in self.gateway.store.open_intents(self.gateway.account)
                     if i.origin == self.run_id and i.status == "unknown"}
            self._unknown = {cid: self._unknown.get(cid, 0) + 1 for cid in still}
            late = [cid for cid, n in self._unknown.items() if n > self.unknown_bars]
            if late:
                out.fatal = (f"order state unknown for client order id {', '.join(late)} after {self.unknown_bars} "
                             "bars of reconciliation: session stopped (runbook 7: look the order up on the "
                             "exchange by its client order id before anything else)")
                self.gateway.log.critical("[ORDER] %s", out.fatal)
            if self.reconcile_every and self._bars % self.reconcile_every == 0:
                out.drift = self.gateway.drift(self.symbol)
                for line in out.drift:
                    self.gateway.log.critical("[RECONCILE] %s (desk ledger against the account)", line)
        except PeakTradeError as exc:
            out.notes.append(f"desk state or exchange unavailable while settling: {exc.message}")
        return out
