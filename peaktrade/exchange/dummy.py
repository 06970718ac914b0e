"""The dummy exchange: offline, deterministic, the shipped default (``exchange.default_type = "dummy"``).

Prices: one tick every ``bar_seconds`` of clock time (tick ``n`` starts at ``n * bar_seconds`` since the
epoch). The log price of tick ``n`` is a random walk ``volatility * W(n)`` built as a dyadic Brownian bridge
whose normals are hashed from ``(seed, symbol, node)``, so any tick is computed directly (no replay from
tick 0) and two processes with the same config see the same series. The walk is reflected into
``[start/2, start*2]`` so the price stays plausible forever. Candles of a timeframe are aligned to
multiples of the timeframe and built from the ticks inside them (the forming candle is the last one,
as on real exchanges).

Orders live in memory only (one process = one account). Market orders fill at once at the price ±
``slippage_bps`` with ``fee_rate`` charged in the quote currency; limit orders rest until the price
crosses them (checked on every call) or they are cancelled.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.exchange.base import (
    ExchangeAuthenticationError,
    ExchangeError,
    ExchangeNetworkError,
    ExchangeOrderError,
    ExchangeRateLimitError,
    MarketRules,
    Order,
    SizedOrder,
    Trade,
    check_order_args,
    size_order,
    timeframe_ms,
)

_LEVELS = 36  # 2**36 ticks: with bar_seconds >= 0.05 that reaches past the year 2070
_BAND = math.log(2.0)
_MIN_BAR_SECONDS = 0.05
_SAMPLES_PER_CANDLE = 16

FAULTS: dict[str, Callable[[], ExchangeError]] = {
    "network": lambda: ExchangeNetworkError("Request timeout"),
    "rate_limit": lambda: ExchangeRateLimitError("Rate limit exceeded"),
    "auth": lambda: ExchangeAuthenticationError("Invalid API key"),
    "reject": lambda: ExchangeOrderError("Order rejected by the exchange"),
}


class DummyExchange:
    name = "dummy"

    def __init__(self, settings: dict[str, Any] | None = None, *, clock: Clock = SYSTEM_CLOCK):
        s = settings or {}
        self.seed = int(s.get("seed", 42))
        self.bar_seconds = max(float(s.get("bar_seconds", 1)), _MIN_BAR_SECONDS)
        self.start_prices: dict[str, float] = dict(s.get("start_prices") or {"BTC/EUR": 60000.0})
        self.volatility = float(s.get("volatility", 0.002))
        self.fee_rate = float(s.get("fee_rate", 0.0026))
        self.slippage = float(s.get("slippage_bps", 5.0)) / 10_000
        self.clock = clock
        self._balances: dict[str, float] = {}
        for sym in self.start_prices:
            for cur in sym.split("/"):
                self._balances.setdefault(cur, 0.0)
        self._balances.update({k: float(v) for k, v in (s.get("starting_balance") or {}).items()})
        self._orders: dict[str, Order] = {}
        self._by_client: dict[str, str] = {}
        self._next_id = 1
        self._trades: list[Trade] = []
        self._faults: list[tuple[str, tuple[str, ...] | None]] = []
        self._nodes: dict[tuple[str, int], float] = {}
        self._candles: dict[tuple[str, int, int], tuple[float, ...]] = {}

    # --- fault injection (tests) ---
    def inject(self, kind: str, *, times: int = 1, methods: tuple[str, ...] | None = None) -> None:
        """Make the next ``times`` calls (of ``methods``, default any) fail with the fault ``kind``."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULTS)}")
        self._faults += [(kind, methods)] * times

    def _enter(self, method: str) -> None:
        for i, (kind, methods) in enumerate(self._faults):
            if (methods is None and (kind != "reject" or method == "create_order")) or (methods and method in methods):
                del self._faults[i]
                raise FAULTS[kind]()
        self._sweep()

    # --- prices ---
    def _tick(self) -> int:
        return int(self.clock.now().timestamp() // self.bar_seconds)

    def _normal(self, symbol: str, node: int) -> float:
        digest = hashlib.blake2b(f"{self.seed}|{symbol}|{node}".encode(), digest_size=8).digest()
        u1, u2 = struct.unpack("<II", digest)
        return math.sqrt(-2.0 * math.log((u1 + 1) / 4294967297.0)) * math.cos(2 * math.pi * u2 / 4294967296.0)

    def _walk(self, symbol: str, n: int) -> float:
        """W(n) of the dyadic Brownian bridge; nodes are memoised since nearby ticks share their path."""
        a, b = 0, 1 << _LEVELS
        wa, wb = 0.0, math.sqrt(b) * self._normal(symbol, b)
        n = n % b
        while b - a > 1 and n not in (a, b):
            m = (a + b) // 2
            wm = self._nodes.get((symbol, m))
            if wm is None:
                if len(self._nodes) > 500_000:
                    self._nodes.clear()
                wm = (wa + wb) / 2 + math.sqrt((b - a) / 4) * self._normal(symbol, m)
                self._nodes[(symbol, m)] = wm
            if n <= m:
                b, wb = m, wm
            else:
                a, wa = m, wm
        return wa if n == a else wb

    def price_at(self, symbol: str, tick: int) -> float:
        x = self.volatility * self._walk(symbol, tick)
        t = (x + _BAND) % (4 * _BAND)  # reflect into [-band, band]
        folded = t - _BAND if t <= 2 * _BAND else 3 * _BAND - t
        return round(self.start_prices[symbol] * math.exp(folded), 8)

    def _market(self, symbol: str) -> None:
        if symbol not in self.start_prices:
            raise ExchangeOrderError(f"Unknown symbol {symbol!r} on the dummy exchange "
                                     f"(configured: {', '.join(sorted(self.start_prices))})")

    # --- public API ---
    def server_time(self) -> int:
        self._enter("server_time")
        return int(self.clock.now().timestamp() * 1000)

    def load_markets(self) -> dict[str, Any]:
        self._enter("load_markets")
        return {sym: {"symbol": sym, "base": sym.split("/")[0], "quote": sym.split("/")[1], "active": True}
                for sym in self.start_prices}

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        self._enter("fetch_ticker")
        self._market(symbol)
        last = self.price_at(symbol, self._tick())
        spread = last * self.slippage
        return {"symbol": symbol, "last": last, "bid": round(last - spread, 8), "ask": round(last + spread, 8),
                "timestamp": int(self.clock.now().timestamp() * 1000)}

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None = None,
                    limit: int | None = None) -> list[list[float]]:
        self._enter("fetch_ohlcv")
        self._market(symbol)
        tf = timeframe_ms(timeframe)
        now_tick = self._tick()
        bar_ms = self.bar_seconds * 1000
        last_k = int(now_tick * bar_ms // tf)
        limit = limit or 100
        first_k = max(0, last_k - limit + 1) if since is None else -(-since // tf)
        out = []
        for k in range(first_k, min(last_k, first_k + limit - 1) + 1):
            cached = self._candles.get((symbol, tf, k))
            if cached is not None:
                out.append(list(cached))
                continue
            n0 = math.ceil(k * tf / bar_ms)
            n1 = min(math.ceil((k + 1) * tf / bar_ms) - 1, now_tick)
            if n1 < n0:  # a tick longer than the candle: the candle shows the tick it falls in
                n0 = n1 = int(k * tf // bar_ms)
            step = max(1, (n1 - n0) // _SAMPLES_PER_CANDLE)
            ticks = sorted({*range(n0, n1 + 1, step), n1})
            prices = [self.price_at(symbol, n) for n in ticks]
            volume = round(abs(self._normal(symbol + "#vol", k)) * 10 + 0.1, 6)
            candle = [k * tf, prices[0], max(prices), min(prices), prices[-1], volume]
            if k < last_k:  # a completed candle never changes again
                if len(self._candles) > 100_000:
                    self._candles.clear()
                self._candles[(symbol, tf, k)] = tuple(candle)
            out.append(candle)
        return out

    def fetch_balance(self) -> dict[str, float]:
        self._enter("fetch_balance")
        return {k: round(v, 10) for k, v in self._balances.items()}

    # --- orders ---
    def create_order(self, symbol: str, side: str, type: str, amount: float, price: float | None = None, *,
                     client_order_id: str | None = None, validate_only: bool = False) -> Order:
        self._enter("create_order")
        self._market(symbol)
        check_order_args(symbol, side, type, amount, price)
        if client_order_id and client_order_id in self._by_client:
            return self._orders[self._by_client[client_order_id]]  # a resubmission never places a second order
        fill_price = self._fill_price(symbol, side) if type == "market" else float(price)  # type: ignore[arg-type]
        self._check_funds(symbol, side, amount, fill_price)
        order = Order(None, client_order_id, symbol, side, type, float(amount), price, "validated",
                      validated_only=True, timestamp=int(self.clock.now().timestamp() * 1000))
        if validate_only:
            return order
        order.id, order.status, order.validated_only = f"D{self._next_id:08d}", "open", False
        self._next_id += 1
        self._orders[order.id] = order
        if client_order_id:
            self._by_client[client_order_id] = order.id
        if type == "market":
            self._fill(order, fill_price)
        return order

    def _fill_price(self, symbol: str, side: str) -> float:
        last = self.price_at(symbol, self._tick())
        return last * (1 + self.slippage) if side == "buy" else last * (1 - self.slippage)

    def _check_funds(self, symbol: str, side: str, amount: float, price: float) -> None:
        base, quote = symbol.split("/")
        if side == "buy":
            need, have, cur = amount * price * (1 + self.fee_rate), self._balances.get(quote, 0.0), quote
        else:
            need, have, cur = amount, self._balances.get(base, 0.0), base
        if need > have + 1e-12:
            raise ExchangeOrderError(f"Insufficient funds: {side} {amount} {symbol} needs {need:.8g} {cur}, "
                                     f"available {have:.8g}")

    def _fill(self, order: Order, price: float) -> None:
        base, quote = order.symbol.split("/")
        notional = order.amount * price
        fee = notional * self.fee_rate
        sign = 1 if order.side == "buy" else -1
        self._balances[base] = self._balances.get(base, 0.0) + sign * order.amount
        self._balances[quote] = self._balances.get(quote, 0.0) - sign * notional - fee
        order.status, order.filled, order.average, order.fee = "closed", order.amount, round(price, 8), round(fee, 8)
        self._trades.append(Trade(f"T{len(self._trades) + 1:08d}", order.id, order.symbol, order.side, order.amount,
                                  round(price, 8), round(notional, 8), round(fee, 8), quote,
                                  int(self.clock.now().timestamp() * 1000), maker=order.type == "limit"))

    def _sweep(self) -> None:
        for order in self._orders.values():
            if order.status != "open" or order.type != "limit":
                continue
            last = self.price_at(order.symbol, self._tick())
            crossed = last <= order.price if order.side == "buy" else last >= order.price  # type: ignore[operator]
            if crossed:
                try:
                    self._check_funds(order.symbol, order.side, order.amount, order.price)  # type: ignore[arg-type]
                except ExchangeOrderError:
                    order.status = "rejected"
                    continue
                self._fill(order, order.price)  # type: ignore[arg-type]

    def cancel_order(self, order_id: str, symbol: str | None = None) -> None:
        self._enter("cancel_order")
        order = self._orders.get(order_id)
        if order is None:
            raise ExchangeOrderError(f"Order not found: {order_id}")
        if order.status != "open":
            raise ExchangeOrderError(f"Order {order_id} is {order.status}, not open")
        order.status = "canceled"

    def cancel_all_orders(self, symbol: str | None = None) -> int:
        self._enter("cancel_all_orders")
        open_orders = [o for o in self._orders.values() if o.status == "open" and symbol in (None, o.symbol)]
        for o in open_orders:
            o.status = "canceled"
        return len(open_orders)

    def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        self._enter("fetch_open_orders")
        return [o for o in self._orders.values() if o.status == "open" and symbol in (None, o.symbol)]

    def fetch_closed_orders(self, symbol: str | None = None, since: int | None = None) -> list[Order]:
        self._enter("fetch_closed_orders")
        return [o for o in self._orders.values() if o.status != "open" and symbol in (None, o.symbol)
                and (since is None or (o.timestamp or 0) >= since)]

    def fetch_order_by_client_id(self, client_order_id: str, *, userref: int | None = None,
                                 since: int | None = None) -> Order | None:
        self._enter("fetch_order_by_client_id")
        oid = self._by_client.get(client_order_id)
        return self._orders[oid] if oid else None

    # --- the gateway's primitives (see docs/exchange.md) ---
    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None, *,
                        order_id: str | None = None) -> list[Trade]:
        self._enter("fetch_my_trades")
        return [t for t in self._trades if symbol in (None, t.symbol) and (since is None or (t.timestamp or 0) >= since)
                and order_id in (None, t.order_id)]

    def cancel_all_after(self, seconds: int) -> dict[str, Any]:
        return {"supported": False, "armed": False, "timeout_s": int(seconds), "trigger_time": None,
                "note": "the dummy exchange has no dead-man switch: nothing armed"}

    def market_rules(self, symbol: str) -> MarketRules:
        self._market(symbol)
        return MarketRules(symbol, None, None, None, None, self.fee_rate, self.fee_rate)

    def size_order(self, symbol: str, side: str, type: str, amount: float, price: float | None = None, *,
                   reference_price: float | None = None) -> SizedOrder:
        return size_order(self.market_rules(symbol), side, type, amount, price, reference_price=reference_price)

    def fetch_balances(self) -> dict[str, dict[str, float]]:
        """The dummy holds no funds for resting orders, so ``used`` is always 0."""
        return {k: {"free": v, "used": 0.0, "total": v} for k, v in self.fetch_balance().items()}

