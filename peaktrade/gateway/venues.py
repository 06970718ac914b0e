"""Where an order goes once the gateway let it through: paper fills, or an exchange adapter.

This module and ``peaktrade.gateway.core`` are the only code that calls an adapter's order methods
(create, cancel, validate-only); ``tests/gateway/test_gateway_one_road.py`` scans the package for others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from peaktrade.exchange.base import Order


@dataclass(frozen=True)
class PaperFill:
    quantity: float
    price: float
    fee: float


class Venue(Protocol):
    name: str
    paper: bool

    def place(self, symbol: str, side: str, order_type: str, quantity: float, price: float | None, *,
              client_order_id: str, mark: float) -> Order: ...

    def lookup(self, client_order_id: str) -> Order | None: ...

    def cancel_all(self, symbol: str | None) -> int: ...

    def cancel(self, order_id: str, symbol: str | None) -> None: ...

    def validate(self, symbol: str, side: str, order_type: str, quantity: float, price: float | None, *,
                 client_order_id: str) -> Order: ...


def paper_price(side: str, mark: float, slippage_bps: float) -> float:
    slip = slippage_bps / 10_000.0
    return mark * (1 + slip) if side == "buy" else mark * (1 - slip)


class PaperVenue:
    """Shadow mode: every order fills at once at the mark plus slippage against us, fee on the notional."""

    name = "paper"
    paper = True

    def __init__(self, fee_rate: float, slippage_bps: float):
        self.fee_rate, self.slippage_bps = fee_rate, slippage_bps
        self._orders: dict[str, Order] = {}

    def place(self, symbol: str, side: str, order_type: str, quantity: float, price: float | None, *,
              client_order_id: str, mark: float) -> Order:
        fill = paper_price(side, mark, self.slippage_bps)
        order = Order(f"paper-{client_order_id}", client_order_id, symbol, side, order_type, quantity, price,
                      "closed", quantity, fill, quantity * fill * self.fee_rate)
        self._orders[client_order_id] = order
        return order

    def lookup(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def cancel_all(self, symbol: str | None) -> int:
        return 0

    def cancel(self, order_id: str, symbol: str | None) -> None:
        return None

    def validate(self, symbol: str, side: str, order_type: str, quantity: float, price: float | None, *,
                 client_order_id: str) -> Order:
        return Order(None, client_order_id, symbol, side, order_type, quantity, price, "validated",
                     validated_only=True)


class ExchangeVenue:
    """An exchange adapter (dummy, ccxt). On an exchange whose testnet only validates (Kraken), a
    validated testnet order fills on paper, so the run still has equity and PnL (runbook 2.3)."""

    paper = False

    def __init__(self, client: Any, paper: PaperVenue | None = None):
        self.client = client
        self.name = str(getattr(client, "name", "exchange"))
        self.paper_fallback = paper or PaperVenue(0.0026, 5.0)

    def place(self, symbol: str, side: str, order_type: str, quantity: float, price: float | None, *,
              client_order_id: str, mark: float) -> Order:
        order = self.client.create_order(symbol, side, order_type, quantity, price, client_order_id=client_order_id)
        if getattr(order, "validated_only", False):
            return self.paper_fallback.place(symbol, side, order_type, quantity, price,
                                             client_order_id=client_order_id, mark=mark)
        return order

    def lookup(self, client_order_id: str) -> Order | None:
        return self.client.fetch_order_by_client_id(client_order_id)

    def cancel_all(self, symbol: str | None) -> int:
        return int(self.client.cancel_all_orders(symbol) or 0)

    def cancel(self, order_id: str, symbol: str | None) -> None:
        self.client.cancel_order(order_id, symbol)

    def validate(self, symbol: str, side: str, order_type: str, quantity: float, price: float | None, *,
                 client_order_id: str) -> Order:
        return self.client.create_order(symbol, side, order_type, quantity, price, client_order_id=client_order_id,
                                        validate_only=True)

    @property
    def reconcilable(self) -> bool:
        """Its balances are the account's: a real exchange that places orders (not the per-process dummy,
        not a validate-only testnet whose fills are on paper)."""
        return self.name != "dummy" and not getattr(self.client, "orders_validate_only", False)

    def arm_deadman(self, seconds: int) -> dict[str, Any]:
        """Kraken's CancelAllOrdersAfter: the exchange cancels every open order unless re-armed in time."""
        arm = getattr(self.client, "cancel_all_after", None)
        return arm(seconds) if arm is not None else {"supported": False}

    def balances(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.client.fetch_balance().items() if isinstance(v, (int, float))}


class DecideOnly:
    """A venue for what-if decisions (``peaktrade risk check``): it refuses to place anything."""

    name = "what-if"
    paper = True

    def _refuse(self, *args: Any, **kwargs: Any) -> Order:
        raise RuntimeError("a what-if gateway never sends orders")

    place = validate = _refuse

    def lookup(self, client_order_id: str) -> Order | None:
        return None

    def cancel_all(self, symbol: str | None) -> int:
        return 0

    def cancel(self, order_id: str, symbol: str | None) -> None:
        return None
