"""The smoke test (seed ``smoke_test_testnet_stack``): one order lifecycle against the configured non-live
exchange: market fill, limit open -> cancel, validate-only preview, open-orders check.

On an exchange whose testnet has no sandbox (Kraken spot) every order of the smoke test is sent
validate-only, so the fill and the cancel steps check the validation reply instead of a fill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import BlockedError
from peaktrade.exchange.base import ExchangeError, new_client_order_id
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
    from peaktrade.config import load_config
    from peaktrade.exchange.factory import make_exchange

    config = load_config(root)
    if config.mode == "live":
        raise BlockedError("the smoke test never runs against live: it places real orders "
                           "(set [environment] mode to testnet or paper)")
    from peaktrade.policy.killswitch import KillSwitch

    state = KillSwitch(root, clock=clock).status().state
    if state != "ACTIVE":  # DESIGN 5: while KILLED or RECOVERING nothing places new orders
        raise BlockedError(f"the smoke test places orders: refused while the kill switch is {state} "
                           "(see 'peaktrade kill-switch status')")
    client = client or make_exchange(config, mode=config.mode, clock=clock)
    symbol = config.get("session.symbol", "BTC/EUR")
    report = SmokeReport(getattr(client, "name", config.exchange_type), config.mode, symbol)
    preview_only = bool(getattr(client, "orders_validate_only", False))
    cids: list[str] = []  # the smoke test's own orders: others' orders on the account are not ours to judge
    steps: list[tuple[str, Callable[[], str]]] = [
        ("market data", lambda: _market_data(client, symbol)),
        ("market order", lambda: _market_order(client, symbol, preview_only, cids)),
        ("limit order open -> cancel", lambda: _limit_cycle(client, symbol, preview_only, cids)),
        ("validate-only preview", lambda: _preview(client, symbol)),
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


def _market_order(client: Any, symbol: str, preview_only: bool, cids: list[str]) -> str:
    amount, _ = _amount(client, symbol)
    cid = new_client_order_id()
    cids.append(cid)
    order = client.create_order(symbol, "buy", "market", amount, client_order_id=cid, validate_only=preview_only)
    if preview_only:
        if not order.validated_only:
            raise AssertionError("validate-only market order came back as placed")
        return f"buy {amount} validated (testnet without sandbox: validate-only)"
    if order.status != "closed" or abs(order.filled - amount) > 1e-9:
        raise AssertionError(f"market order {order.id} not filled: status {order.status}, filled {order.filled}")
    return f"buy {amount} filled at {order.average} (fee {order.fee}, order {order.id})"


def _limit_cycle(client: Any, symbol: str, preview_only: bool, cids: list[str]) -> str:
    amount, price = _amount(client, symbol)
    limit = round(price * 0.5, 2)  # far below the market: it must rest
    cid = new_client_order_id()
    cids.append(cid)
    order = client.create_order(symbol, "buy", "limit", amount, limit, client_order_id=cid,
                                validate_only=preview_only)
    if preview_only:
        return f"buy limit {amount} @ {limit} validated (validate-only, nothing to cancel)"
    if order.status != "open" or order.id not in {o.id for o in client.fetch_open_orders(symbol)}:
        raise AssertionError(f"limit order {order.id} is not open (status {order.status})")
    client.cancel_order(order.id, symbol)
    if order.id in {o.id for o in client.fetch_open_orders(symbol)}:
        raise AssertionError(f"limit order {order.id} still open after cancel")
    return f"buy limit {amount} @ {limit} opened as {order.id} and cancelled"


def _preview(client: Any, symbol: str) -> str:
    amount, price = _amount(client, symbol)
    before = {o.id for o in client.fetch_open_orders(symbol)}
    # a buy far below the market: it needs only the quote funds the smoke test needs anyway. A sell
    # needs base currency the account may not hold (the market buy filled a slightly smaller amount
    # when the price rose since), and the exchange's funds check then fails the preview.
    order = client.create_order(symbol, "buy", "limit", amount, round(price / 2, 2),
                                client_order_id=new_client_order_id(), validate_only=True)
    if not order.validated_only or {o.id for o in client.fetch_open_orders(symbol)} != before:
        raise AssertionError("the validate-only order was placed")
    return f"buy limit {amount} validated, nothing placed"


def _open_orders(client: Any, symbol: str, cids: list[str]) -> str:
    left = [o for o in client.fetch_open_orders(symbol) if o.client_order_id in cids]
    if left:
        raise AssertionError(f"{len(left)} smoke order(s) left open: {', '.join(str(o.id) for o in left)}")
    return "no order of the smoke test left open"
