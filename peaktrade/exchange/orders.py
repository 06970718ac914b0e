"""Order operations for the operator: preview (validate-only), open orders, cancel all.

``preview_orders`` asks the strategy what it would do on the latest bars and sends that order
validate-only: the exchange checks it, nothing is placed (runbook 3, step 6). Cancel-all in live
goes through the live gate; if the policy part cannot be imported it refuses (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import BlockedError, CheckFailed
from peaktrade.exchange.base import Order, new_client_order_id
from peaktrade.root import Root

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


def preview_orders(root: Root, strategy: str, *, clock: Clock = SYSTEM_CLOCK, client: Any = None) -> Preview:
    try:
        from peaktrade.runtime.strategies import get_strategy
    except ImportError:
        raise CheckFailed("strategy engine not available (peaktrade.runtime.strategies)") from None
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
        orders.append(client.create_order(symbol, "buy" if delta > 0 else "sell", "market", abs(delta),
                                          client_order_id=new_client_order_id(), validate_only=True))
    return Preview(strategy, symbol, timeframe, price, signal, position, target, orders)


def open_orders(root: Root, *, clock: Clock = SYSTEM_CLOCK, client: Any = None) -> list[Order]:
    _, made = (None, client) if client is not None else _client(root, clock)
    return made.fetch_open_orders()


def cancel_all(root: Root, *, approvals: dict[str, Any] | None = None, clock: Clock = SYSTEM_CLOCK,
               client: Any = None) -> int:
    """Cancel every open order; in live only through the live gate (fail closed)."""
    from peaktrade.config import load_config

    config = load_config(root)
    if config.mode == "live":
        try:
            from peaktrade.policy.gate import require_live
        except ImportError:
            raise BlockedError("cancel-all in live refused: the live gate (peaktrade.policy.gate) is not "
                               "available") from None
        require_live(root, approvals=approvals or {}, what="cancel all open live orders", clock=clock)
    if client is None:
        from peaktrade.exchange.factory import make_exchange

        client = make_exchange(config, mode=config.mode, clock=clock)
    return client.cancel_all_orders()


def order_line(o: Order) -> str:
    price = f" @ {o.price:g}" if o.price else ""
    return f"{o.id}  {o.symbol}  {o.side} {o.amount:g} {o.type}{price}  filled {o.filled:g}  {o.status}  " \
           f"client id {o.client_order_id or '-'}"
