"""Order operations for the operator: preview (validate-only), open orders, cancel all, liquidate.

Each goes through the order gateway. ``preview_orders`` asks the strategy what it would do on the
latest bars and sends that order validate-only after the kill switch and the risk decision: the
exchange checks it, nothing is placed (runbook 3, step 6). Cancel-all in live goes through the live
gate. ``liquidate`` closes the account's positions with risk-reducing market orders (seed 11.2
"Notfall-Liquidation: jeder"): allowed while the kill switch is engaged, and to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.config import load_config
from peaktrade.errors import CheckFailed, PeakTradeError
from peaktrade.exchange.base import Order
from peaktrade.gateway import OrderOutcome, OrderRequest, open_gateway
from peaktrade.gateway.venues import ExchangeVenue
from peaktrade.policy.gate import check_live_gate, require_live
from peaktrade.root import Root
from peaktrade.runtime.live import sync_ledger
from peaktrade.runtime.strategies import get_strategy

_MIN_ORDER = 1e-8


@dataclass
class Preview:
    strategy: str
    symbol: str
    timeframe: str
    price: float
    signal: int
    position: float
    target: float
    orders: list[Order]

    def text(self) -> str:
        head = (f"Order preview for strategy {self.strategy} on {self.symbol} {self.timeframe}: price {self.price}, "
                f"signal {self.signal:+d}, position {self.position:g} -> target {self.target:g}")
        if not self.orders:
            return head + "\n  no order: the strategy holds its position"
        return head + "\n" + "\n".join(
            f"  {o.side} {o.amount:g} {o.symbol} {o.type} -> {o.status} (validate-only, not placed)"
            for o in self.orders)

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "symbol": self.symbol, "timeframe": self.timeframe, "price": self.price,
                "signal": self.signal, "position": self.position, "target": self.target,
                "orders": [o.to_dict() for o in self.orders]}


def _client(root: Root, clock: Clock) -> tuple[Any, Any]:
    from peaktrade.config import load_config
    from peaktrade.exchange.factory import make_exchange

    config = load_config(root)
    return config, make_exchange(config, mode=config.mode, clock=clock)


def preview_orders(root: Root, strategy: str, *, clock: Clock = SYSTEM_CLOCK, client: Any = None,
                   approvals: dict[str, Any] | None = None) -> Preview:
    """What the strategy would order now, sent validate-only through the gateway. In live the live gate must be
    open for the calling frame (``approvals``: its verified records), as for any order path."""
    config, made = _client(root, clock)
    client = client or made
    strat = get_strategy(strategy, config)
    symbol = config.get("session.symbol", "BTC/EUR")
    timeframe = config.get("session.timeframe", "1m")
    bars = client.fetch_ohlcv(symbol, timeframe, limit=max(int(getattr(strat, "warmup_bars", 50)) + 1, 100))
    closes = [float(b[4]) for b in bars]
    if len(closes) < getattr(strat, "warmup_bars", 0):
        raise CheckFailed(f"not enough bars for {strategy}: {len(closes)} < {strat.warmup_bars}")
    price = float(client.fetch_ticker(symbol)["last"])
    base, quote = symbol.split("/")
    balance = client.fetch_balance()
    position = float(balance.get(base, 0.0))
    equity = float(balance.get(quote, 0.0)) + position * price
    signal = int(strat.signal(closes))
    target = float(strat.target_position(signal, equity=equity, price=price, position=position))
    delta = round(target - position, 8)
    orders = []
    if abs(delta) >= _MIN_ORDER:
        gateway = open_gateway(root, config, config.mode, clock=clock, client=client,
                               live_gate=lambda: _gate(root, approvals, clock))
        if getattr(gateway.venue, "reconcilable", False):  # live: decide on what the exchange reports
            sync_ledger(gateway, client, symbol)
        origin = f"preview-{clock.now().strftime('%Y%m%dT%H%M%S%f')}"
        out = gateway.preview(OrderRequest(symbol, "buy" if delta > 0 else "sell", abs(delta), price, origin, strategy))
        if out.status != "validated":
            raise CheckFailed(f"order preview {out.status}: {out.message}")
        orders.append(out.order)
    return Preview(strategy, symbol, timeframe, price, signal, position, target, orders)


def _gate(root: Root, approvals: dict[str, Any] | None, clock: Clock) -> str | None:
    result = check_live_gate(root, approvals=approvals or {}, clock=clock)
    return None if result.allowed else f"order preview blocked: {result.message}"


def open_orders(root: Root, *, clock: Clock = SYSTEM_CLOCK, client: Any = None) -> list[Order]:
    _, made = (None, client) if client is not None else _client(root, clock)
    return made.fetch_open_orders()


def cancel_all(root: Root, *, approvals: dict[str, Any] | None = None, clock: Clock = SYSTEM_CLOCK,
               client: Any = None) -> int:
    """Cancel every open order; in live only through the live gate (fail closed). Allowed while the kill
    switch is engaged; with the desk state unreadable the orders are still cancelled at the exchange."""
    config = load_config(root)
    if config.mode == "live":
        require_live(root, approvals=approvals or {}, what="cancel all open live orders", clock=clock)
    if client is None:
        from peaktrade.exchange.factory import make_exchange

        client = make_exchange(config, mode=config.mode, clock=clock)
    try:
        gateway = open_gateway(root, config, config.mode, clock=clock, client=client)
    except PeakTradeError:  # no desk ledger to reconcile: cancelling must still happen (runbook 5.3)
        return ExchangeVenue(client).cancel_all(None)
    return gateway.cancel_all()


@dataclass
class Liquidation:
    account: str
    outcomes: list[tuple[str, float, OrderOutcome]]

    @property
    def ok(self) -> bool:
        return all(o.status == "filled" for _, _, o in self.outcomes)

    def text(self) -> str:
        if not self.outcomes:
            return f"Liquidation of the {self.account} account: no open position"
        lines = [f"Liquidation of the {self.account} account:"]
        lines += [f"  {sym}: close {qty:+g} -> {o.status}{' - ' + o.message if o.message else ''}"
                  for sym, qty, o in self.outcomes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "ok": self.ok,
                "orders": [{"symbol": s, "quantity": q, **o.to_dict()} for s, q, o in self.outcomes]}


def liquidate(root: Root, *, symbol: str | None = None, clock: Clock = SYSTEM_CLOCK, client: Any = None,
              origin: str | None = None) -> Liquidation:
    """Close every position of the configured account (or one symbol) with reduce-only market orders."""
    config = load_config(root)
    if client is None and config.mode != "shadow":
        from peaktrade.exchange.factory import make_exchange

        client = make_exchange(config, mode=config.mode, clock=clock)
    gateway = open_gateway(root, config, config.mode if config.mode != "paper" else "shadow", clock=clock,
                           client=client)
    if config.mode == "live":  # the exchange's balances are the truth for live
        quote = config.get("session.symbol", "BTC/EUR").split("/")[1]
        balances = {k: float(v) for k, v in client.fetch_balance().items() if isinstance(v, (int, float))}
        marks = {f"{c}/{quote}": float(client.fetch_ticker(f"{c}/{quote}")["last"])
                 for c, q in balances.items() if c != quote and q}
        gateway.sync_from(balances, quote=quote, marks=marks)
    origin = origin or f"liquidate-{clock.now().strftime('%Y%m%dT%H%M%S%f')}"
    ledger = gateway.ledger()
    outcomes = []
    for sym, pos in sorted(ledger.positions.items()):
        if abs(pos.quantity) < 1e-12 or (symbol and sym != symbol):
            continue
        mark = float(client.fetch_ticker(sym)["last"]) if client is not None else (pos.mark or pos.avg_price)
        side = "sell" if pos.quantity > 0 else "buy"
        out = gateway.submit(OrderRequest(sym, side, abs(pos.quantity), mark, origin, sym, reduce_only=True))
        outcomes.append((sym, -pos.quantity, out))
    return Liquidation(gateway.account, outcomes)


def order_line(o: Order) -> str:
    price = f" @ {o.price:g}" if o.price else ""
    return f"{o.id}  {o.symbol}  {o.side} {o.amount:g} {o.type}{price}  filled {o.filled:g}  {o.status}  " \
           f"client id {o.client_order_id or '-'}"
