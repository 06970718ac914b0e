"""A session's orders, through the order gateway (the only road to an exchange).

The session asks for an order on a bar; the gateway decides (kill switch, live gate, desk-wide risk),
records the intent with a client order id made of the run id and the bar step, sends it, and reports
what filled. Fills that arrive later (partial fills, an order that landed after a timeout) are picked
up by ``late_fills`` on the next bars, so the run's book follows the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peaktrade.errors import PeakTradeError
from peaktrade.gateway import Gateway, OrderRequest
from peaktrade.runtime.book import Fill


@dataclass
class Placed:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    rejected: bool = False
    error: str | None = None
    fatal: bool = False
    state: str = "ACTIVE"


class SessionOrders:
    def __init__(self, gateway: Gateway, run_id: str, symbol: str):
        self.gateway, self.run_id, self.symbol = gateway, run_id, symbol

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

    def late_fills(self, mark: float) -> list[Fill]:
        if self.gateway.venue.paper:
            return []
        out: list[Fill] = []
        try:
            intents = self.gateway.store.open_intents(self.gateway.account)
        except PeakTradeError:
            return []
        for intent in intents:
            if intent.origin != self.run_id:
                continue
            for f in self.gateway.reconcile(intent, mark=mark).fills:
                out.append(Fill(intent.side, f.quantity, f.price, f.fee))
        return out
