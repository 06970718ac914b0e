"""The smoke test (seed ``smoke_test_testnet_stack``): one order lifecycle against the configured non-live
exchange: market fill, limit open -> cancel, validate-only preview, open-orders check.

Every order goes through the order gateway, like any other: the kill switch, the stage's risk limits
on the desk ledger, a durable intent with a client order id made of the smoke run's id and the step.
On an exchange whose testnet has no sandbox (Kraken spot) every order of the smoke test is sent
validate-only, so the fill and the cancel steps check the validation reply instead of a fill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.config import load_config
from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.errors import BlockedError
from peaktrade.exchange.base import ExchangeError
from peaktrade.gateway import Gateway, OrderRequest, open_gateway
from peaktrade.root import Root

SMOKE_NOTIONAL = 20.0  # quote currency per test order: small enough for any starting balance


@dataclass
class SmokeStep:
    name: str
    ok: bool
    message: str


@dataclass
class SmokeReport:
    exchange: str
    mode: str
    symbol: str
    steps: list[SmokeStep] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def text(self) -> str:
        lines = [f"Smoke test on {self.exchange} ({self.mode}, {self.symbol}):"]
        lines += [f"  [{'PASS' if s.ok else 'FAIL'}] {s.name}: {s.message}" for s in self.steps]
        lines.append("Smoke-Test PASSED" if self.passed else "Smoke-Test FAILED")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"exchange": self.exchange, "mode": self.mode, "symbol": self.symbol, "passed": self.passed,
                "steps": [asdict(s) for s in self.steps]}


def run_smoke(root: Root, *, clock: Clock = SYSTEM_CLOCK, client: Any = None) -> SmokeReport:
    config = load_config(root)
    if config.mode == "live":
        raise BlockedError("the smoke test never runs against live: it places real orders "
                           "(set [environment] mode to testnet or paper)")
    ks = read_kill_switch(root, clock)
    if ks.blocks_orders:  # DESIGN 5: while engaged or recovering nothing places new orders
        raise BlockedError(f"the smoke test places orders: refused while the kill switch is {ks.word} "
                           "(see 'peaktrade kill-switch status')")
    if client is None:
        from peaktrade.exchange.factory import make_exchange

        client = make_exchange(config, mode=config.mode, clock=clock)
    gateway = open_gateway(root, config, config.mode, clock=clock, client=client)
    symbol = config.get("session.symbol", "BTC/EUR")
    report = SmokeReport(getattr(client, "name", config.exchange_type), config.mode, symbol)
    preview_only = bool(getattr(client, "orders_validate_only", False))
    origin = f"smoke-{clock.now().strftime('%Y%m%dT%H%M%S%f')}"
    cids: list[str] = []  # the smoke test's own orders: others' orders on the account are not ours to judge
    run = _Run(gateway, client, symbol, origin, cids)
    steps: list[tuple[str, Callable[[], str]]] = [
        ("market data", lambda: _market_data(client, symbol)),
        ("market order", lambda: run.market_order(preview_only)),
        ("limit order open -> cancel", lambda: run.limit_cycle(preview_only)),
        ("validate-only preview", run.preview),
        ("open orders", lambda: _open_orders(client, symbol, cids)),
    ]
    for name, fn in steps:
        try:
            report.steps.append(SmokeStep(name, True, fn()))
        except (ExchangeError, AssertionError) as exc:
            msg = exc.log_line() if isinstance(exc, ExchangeError) else str(exc)
            report.steps.append(SmokeStep(name, False, msg))
            if name == "market data" or getattr(exc, "halt", False):
                break  # no market, or an authentication error: nothing after it can be trusted
    return report


def _amount(client: Any, symbol: str) -> tuple[float, float]:
    price = float(client.fetch_ticker(symbol)["last"])
    return round(SMOKE_NOTIONAL / price, 8), price


def _market_data(client: Any, symbol: str) -> str:
    client.server_time()
    ticker = client.fetch_ticker(symbol)
    bars = client.fetch_ohlcv(symbol, "1m", limit=5)
    if not ticker.get("last") or not bars:
        raise AssertionError(f"no price or no candles for {symbol}")
    return f"last {ticker['last']}, {len(bars)} candles"


@dataclass
class _Run:
    gateway: Gateway
    client: Any
    symbol: str
    origin: str
    cids: list[str]

    def _request(self, step: str, amount: float, price: float, limit: float | None = None) -> OrderRequest:
        return OrderRequest(self.symbol, "buy", amount, price, self.origin, step, price=limit)

    def market_order(self, preview_only: bool) -> str:
        amount, price = _amount(self.client, self.symbol)
        if preview_only:
            out = self.gateway.preview(self._request("market", amount, price))
            _expect(out, "validated")
            return f"buy {amount} validated (testnet without sandbox: validate-only)"
        out = self.gateway.submit(self._request("market", amount, price))
        self.cids.append(str(out.client_order_id))
        _expect(out, "filled")
        order = out.order
        return f"buy {amount} filled at {order.average} (fee {order.fee}, order {order.id})"  # type: ignore[union-attr]

    def limit_cycle(self, preview_only: bool) -> str:
        amount, price = _amount(self.client, self.symbol)
        limit = round(price * 0.5, 2)  # far below the market: it must rest
        if preview_only:
            _expect(self.gateway.preview(self._request("limit", amount, price, limit)), "validated")
            return f"buy limit {amount} @ {limit} validated (validate-only, nothing to cancel)"
        out = self.gateway.submit(self._request("limit", amount, price, limit))
        self.cids.append(str(out.client_order_id))
        _expect(out, "open")
        order_id = out.order.id  # type: ignore[union-attr]
        if order_id not in {o.id for o in self.client.fetch_open_orders(self.symbol)}:
            raise AssertionError(f"limit order {order_id} is not open")
        intent = self.gateway.store.get_intent(str(out.client_order_id))
        self.gateway.cancel(intent)  # type: ignore[arg-type]
        if order_id in {o.id for o in self.client.fetch_open_orders(self.symbol)}:
            raise AssertionError(f"limit order {order_id} still open after cancel")
        return f"buy limit {amount} @ {limit} opened as {order_id} and cancelled"

    def preview(self) -> str:
        amount, price = _amount(self.client, self.symbol)
        before = {o.id for o in self.client.fetch_open_orders(self.symbol)}
        # a buy far below the market: it needs only the quote funds the smoke test needs anyway. A sell
        # needs base currency the account may not hold (the market buy filled a slightly smaller amount
        # when the price rose since), and the exchange's funds check then fails the preview.
        out = self.gateway.preview(self._request("preview", amount, price, round(price / 2, 2)))
        _expect(out, "validated")
        if not out.order.validated_only or {o.id for o in self.client.fetch_open_orders(self.symbol)} != before:  # type: ignore[union-attr]
            raise AssertionError("the validate-only order was placed")
        return f"buy limit {amount} validated, nothing placed"


def _expect(out: Any, status: str) -> None:
    if out.status != status:
        raise AssertionError(f"order {out.client_order_id} {out.status}, not {status}: {out.message or '-'}")


def _open_orders(client: Any, symbol: str, cids: list[str]) -> str:
    left = [o for o in client.fetch_open_orders(symbol) if o.client_order_id in cids]
    if left:
        raise AssertionError(f"{len(left)} smoke order(s) left open: {', '.join(str(o.id) for o in left)}")
    return "no order of the smoke test left open"
