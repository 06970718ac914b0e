"""The ccxt adapter: any ccxt exchange (Kraken by default) behind ``ExchangeClient``.

ccxt is imported only here, when an adapter is built. Credentials come from the environment variables
named in the config (never from or into a file of ours) and are registered with the redactor at once.
Reads retry with exponential backoff and jitter; rate limits back off; authentication errors never retry.
Orders are never resubmitted: each carries a client order id; when the outcome of a placement is unknown
(timeout, network error, an unreadable or service-error reply) the adapter looks the order up by that id
(open and closed orders) and returns it, or raises ``ExchangeOrderStateUnknown`` for the caller to
reconcile. The gateway's primitives (docs/exchange.md, "Adapter API for the gateway") are at the end.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
from collections.abc import Callable
from typing import Any, TypeVar

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.exchange.base import (
    ExchangeAPIError,
    ExchangeError,
    ExchangeNetworkError,
    ExchangeOrderError,
    ExchangeOrderStateUnknown,
    ExchangeRateLimitError,
    MarketRules,
    Order,
    SizedOrder,
    Trade,
    check_order_args,
    new_client_order_id,
    size_order,
)
from peaktrade.exchange.ccxt_support import (
    json_only,
    order_from_ccxt,
    rebase_urls,
    redact_ccxt_logs,
    rules_from_market,
    trade_from_ccxt,
)
from peaktrade.exchange.errors_map import map_ccxt_error
from peaktrade.redact import register_secret

log = logging.getLogger("peaktrade.exchange")
T = TypeVar("T")
# Kraken spot accepts AddOrder with validate=true: checked by the exchange, never placed
_NATIVE_VALIDATE = {"kraken": {"validate": True}}
# exchanges whose open/closed order queries filter by client order id
_CLIENT_ID_FILTER = {"kraken"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def testnet_execution(ccxt_id: str, config: Any) -> str | None:
    """How testnet orders run: ``sandbox`` (the exchange's test URLs or a sandbox base_url),
    ``validate_only`` (no sandbox: orders are only validated), or None if ccxt does not know the id."""
    import ccxt

    klass = getattr(ccxt, ccxt_id, None)
    if klass is None or not isinstance(klass, type):
        return None
    sandbox = config.get("exchange.sandbox")
    if sandbox is False:
        return "validate_only"
    if sandbox is True and config.get("exchange.base_url"):
        return "sandbox"
    return "sandbox" if (klass().urls or {}).get("test") else "validate_only"  # kraken: urls["test"] is None


class CcxtExchange:
    def __init__(self, ccxt_id: str, *, mode: str, api_key: str | None = None, secret: str | None = None,
                 rate_limit_ms: int = 1000, timeout_ms: int = 10000, base_url: str = "",
                 execution: str = "real", retry_max_attempts: int = 4, retry_base_delay_s: float = 0.5,
                 retry_max_delay_s: float = 8.0, rate_limit_backoff_s: float = 60.0, clock: Clock = SYSTEM_CLOCK,
                 use_sandbox: bool = False):
        import ccxt

        klass = getattr(ccxt, ccxt_id, None)
        if klass is None or not isinstance(klass, type):
            raise ExchangeAPIError(f"Unknown ccxt exchange id {ccxt_id!r}")
        for value in (api_key, secret):
            register_secret(value)
        redact_ccxt_logs()
        self.name, self.mode, self.clock = ccxt_id, mode, clock
        self.execution = execution  # real | sandbox | validate_only
        self.orders_validate_only = execution == "validate_only"
        self.retry_max_attempts, self.retry_base_delay_s = retry_max_attempts, retry_base_delay_s
        self.retry_max_delay_s, self.rate_limit_backoff_s = retry_max_delay_s, rate_limit_backoff_s
        opts: dict[str, Any] = {"enableRateLimit": True, "rateLimit": rate_limit_ms, "timeout": timeout_ms}
        if api_key:
            opts.update(apiKey=api_key, secret=secret)
        self.ccxt = klass(opts)
        if use_sandbox:
            self.ccxt.set_sandbox_mode(True)
        if base_url:
            self.ccxt.urls["api"] = rebase_urls(self.ccxt.urls["api"], base_url.rstrip("/"))
        self.ccxt.on_rest_response = json_only(self.ccxt.on_rest_response, ccxt.BadResponse)
        self._markets_loaded = False

    @classmethod
    def from_config(cls, config: Any, *, mode: str, clock: Clock = SYSTEM_CLOCK) -> CcxtExchange:
        ccxt_id = config.get("exchange.ccxt_id") or config.exchange_type
        key = secret = None
        if mode in ("testnet", "live"):
            key_env = (config.get("exchange.api_key_env") or {}).get(mode)
            secret_env = (config.get("exchange.api_secret_env") or {}).get(mode)
            key = os.environ.get(key_env) if key_env else None
            secret = os.environ.get(secret_env) if secret_env else None
        execution = "real"
        if mode in ("paper", "shadow"):
            execution = "validate_only"  # shadow runs fill on paper; never send a real order
        elif mode == "testnet":
            execution = testnet_execution(ccxt_id, config) or "validate_only"
        base_url = config.get("exchange.base_url") or ""
        if mode == "live" and base_url:
            from peaktrade.errors import UsageError

            # the live key would be sent to whatever answers at that URL
            raise UsageError(f"[exchange] base_url = {base_url!r} is not allowed in live mode: live talks to the "
                             "exchange itself")
        return cls(ccxt_id, mode=mode, api_key=key, secret=secret,
                   rate_limit_ms=config.get("exchange.rate_limit_ms", 1000),
                   timeout_ms=config.get("exchange.timeout_ms", 10000), base_url=base_url, execution=execution,
                   retry_max_attempts=config.get("exchange.retry_max_attempts", 4),
                   retry_base_delay_s=config.get("exchange.retry_base_delay_s", 0.5),
                   retry_max_delay_s=config.get("exchange.retry_max_delay_s", 8.0),
                   rate_limit_backoff_s=config.get("exchange.rate_limit_backoff_s", 60.0), clock=clock,
                   use_sandbox=execution == "sandbox" and not base_url)

    # --- the call wrappers ---
    def _call(self, fn: Callable[..., T], *args: Any, _order: bool = False, **kwargs: Any) -> T:
        """One request; every failure becomes a taxonomy error and one redacted log line. ``_order``: the
        request places an order (its argument errors are order errors)."""
        try:
            return fn(*args, **kwargs)
        except ExchangeError:
            raise
        except Exception as exc:  # noqa: BLE001 - ccxt and garbage replies (TypeError, ValueError...) alike
            err = map_ccxt_error(exc, order=_order)
            log.warning(err.log_line())
            raise err from None

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A read: retried on network errors (exponential backoff + jitter) and rate limits, within a bound."""
        for attempt in range(1, self.retry_max_attempts + 1):
            try:
                return self._call(fn, *args, **kwargs)
            except ExchangeError as err:
                if not err.retry_reads or attempt == self.retry_max_attempts:
                    raise
                self.clock.sleep(self._backoff(err, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, err: ExchangeError, attempt: int) -> float:
        if isinstance(err, ExchangeRateLimitError):
            return self.rate_limit_backoff_s * (1 + random.random())  # runbook 7: 60-120 s in production
        delay = min(self.retry_max_delay_s, self.retry_base_delay_s * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    def _ensure_markets(self) -> None:
        if not self._markets_loaded:
            self._read(self.ccxt.load_markets)
            self._markets_loaded = True

    # --- reads ---
    def server_time(self) -> int:
        ms = self._read(self.ccxt.fetch_time)
        if ms is None:
            raise ExchangeAPIError("Unreadable reply: no server time")
        return int(ms)

    def load_markets(self) -> dict[str, Any]:
        markets = self._read(self.ccxt.load_markets)
        self._markets_loaded = True
        return markets

    def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        self._ensure_markets()
        t = self._read(self.ccxt.fetch_ticker, symbol)
        if t.get("last") is None:
            raise ExchangeAPIError(f"Unreadable reply: ticker for {symbol} without a price")
        return {"symbol": symbol, "last": t["last"], "bid": t.get("bid"), "ask": t.get("ask"),
                "timestamp": t.get("timestamp")}

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None = None,
                    limit: int | None = None) -> list[list[float]]:
        self._ensure_markets()
        return self._read(self.ccxt.fetch_ohlcv, symbol, timeframe, since, limit)

    def fetch_balance(self) -> dict[str, float]:
        self._ensure_markets()
        total = self._read(self.ccxt.fetch_balance).get("total") or {}
        return {k: float(v) for k, v in total.items() if v is not None}

    def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        self._ensure_markets()
        return [order_from_ccxt(o) for o in self._read(self.ccxt.fetch_open_orders, symbol)]

    def fetch_closed_orders(self, symbol: str | None = None, since: int | None = None) -> list[Order]:
        """Closed, canceled and expired orders (Kraken: the 50 most recent; ``since`` in ms narrows it)."""
        self._ensure_markets()
        return [order_from_ccxt(o) for o in self._read(self.ccxt.fetch_closed_orders, symbol, since)]

    def fetch_order_by_client_id(self, client_order_id: str, *, userref: int | None = None,
                                 since: int | None = None) -> Order | None:
        """Open orders first, then closed ones; filtered by the exchange where it can (Kraken's
        ``cl_ord_id``, or ``userref`` when given) and always checked here. None: not on the exchange."""
        self._ensure_markets()
        wire = self._wire_id(client_order_id)
        params: dict[str, Any] = {}
        if self.name in _CLIENT_ID_FILTER:
            params = {"userref": int(userref)} if userref is not None else {"clientOrderId": wire}
        for fetch in (self.ccxt.fetch_open_orders, self.ccxt.fetch_closed_orders):
            for raw in self._read(fetch, None, since if fetch == self.ccxt.fetch_closed_orders else None,
                                  None, params):
                info = raw.get("info") or {}
                if raw.get("clientOrderId") == wire or info.get("cl_ord_id") == wire or (
                        userref is not None and str(info.get("userref")) == str(userref)):
                    order = order_from_ccxt(raw)
                    order.client_order_id = client_order_id
                    return order
        return None

    def _wire_id(self, client_order_id: str) -> str:
        """The id as sent: Kraken takes a UUID or free text of at most 18 characters, so a longer free-text
        id is replaced by a stable 18-character digest of it (the same in every process)."""
        if self.name == "kraken" and len(client_order_id) > 18 and not _UUID.match(client_order_id):
            return "h" + hashlib.sha256(client_order_id.encode()).hexdigest()[:17]
        return client_order_id

    # --- acts ---
    def cancel_order(self, order_id: str, symbol: str | None = None) -> None:
        """Cancel; after a timeout the order is looked up first (a repeat of a cancel that landed would
        answer 'unknown order')."""
        self._ensure_markets()
        try:
            self._call(self.ccxt.cancel_order, order_id, symbol)
        except (ExchangeNetworkError, ExchangeRateLimitError) as err:
            self.clock.sleep(self._backoff(err, 1))
            if order_id in {o.id for o in self.fetch_open_orders()}:
                self._read(self.ccxt.cancel_order, order_id, symbol)

    def cancel_all_orders(self, symbol: str | None = None) -> int:
        open_orders = self.fetch_open_orders(symbol)
        if symbol is None and self.ccxt.has.get("cancelAllOrders"):
            # repeating a cancel-all is harmless, but a repeat's own count would be 0: count by looking
            self._read(self.ccxt.cancel_all_orders)
            still_open = {o.id for o in self.fetch_open_orders()}
            return sum(1 for o in open_orders if o.id not in still_open)
        for o in open_orders:
            self.cancel_order(o.id, o.symbol)  # type: ignore[arg-type]
        return len(open_orders)

    def create_order(self, symbol: str, side: str, type: str, amount: float, price: float | None = None, *,
                     client_order_id: str | None = None, validate_only: bool = False) -> Order:
        """Place (or validate) an order, sized to the pair's precision and minimums before it leaves.
        Never resubmitted: an unknown outcome is looked up by client id, else ``ExchangeOrderStateUnknown``."""
        check_order_args(symbol, side, type, amount, price)
        self._ensure_markets()
        cid = client_order_id or new_client_order_id()
        if validate_only or self.orders_validate_only:
            return self._validate(symbol, side, type, amount, price, cid)
        sized = self.size_order(symbol, side, type, amount, price)
        amount, price = sized.amount, sized.price if type == "limit" else price
        existing = self.fetch_order_by_client_id(cid) if client_order_id else None
        if existing is not None:
            return existing  # a resubmitted client id never creates a second order
        return self._place(symbol, side, type, amount, price, cid)

    @staticmethod
    def _uncertain(err: ExchangeError) -> bool:
        """May the order have been placed despite this error? No reply, an unreadable one, or Kraken's
        service errors: yes. A refusal the exchange stated (funds, minimums, rate limit, key): no."""
        code = err.exchange_code or ""
        if code:
            return code.startswith(("EService:", "EGeneral:Internal error", "EDatabase:"))
        return isinstance(err, (ExchangeNetworkError, ExchangeAPIError)) and not isinstance(
            err, ExchangeRateLimitError)

    def _place(self, symbol: str, side: str, type: str, amount: float, price: float | None, cid: str) -> Order:
        params = {"clientOrderId": self._wire_id(cid)}
        try:
            reply = self._call(self.ccxt.create_order, symbol, type, side, amount, price, params, _order=True)
        except ExchangeError as err:
            if err.exchange_code and err.exchange_code.startswith("EOrder:Duplicate order"):
                # an order with this client id is open: it is this intent (placed by a request we lost)
                found = self._reconcile(cid, err)
                if found is not None:
                    return found
                raise
            if not self._uncertain(err):
                raise  # refused: nothing was placed
            # The request may have reached the exchange. Back off first (a request still in flight gets
            # time to land), then look the order up; never resubmit: it could still land later.
            self.clock.sleep(self._backoff(err, 1))
            found = self._reconcile(cid, err)
            if found is not None:
                return found
            if isinstance(err, ExchangeAPIError):
                raise ExchangeAPIError(f"{err.message} for client id {cid}; the order was not found on the "
                                       "exchange", details=err.details, cause=err.cause) from None
            raise ExchangeOrderStateUnknown(
                f"Order state unknown for client id {cid} after '{err.message}': not found by lookup yet; "
                "not resubmitted (reconcile by client id)", client_order_id=cid, cause=err.cause) from None
        if not reply or not reply.get("id"):
            found = self._reconcile(cid, ExchangeAPIError("Order reply without an order id"))
            if found is not None:
                return found
            raise ExchangeAPIError(f"Order reply without an order id for client id {cid}; "
                                   "the order was not found on the exchange")
        return self._after_place(reply, cid, symbol, side, type, amount, price)

    def _reconcile(self, cid: str, cause: ExchangeError) -> Order | None:
        """Look the order up by client id; if that is impossible its state is unknown: never resubmit then."""
        try:
            return self.fetch_order_by_client_id(cid)
        except ExchangeError as err:
            if err.halt:
                raise
            raise ExchangeOrderStateUnknown(f"Order state unknown for client id {cid} after '{cause.message}': "
                                            f"lookup failed ({err.message}); not resubmitted",
                                            client_order_id=cid, cause=type(err).__name__) from None

    def _after_place(self, reply: dict[str, Any], cid: str, symbol: str, side: str, type: str, amount: float,
                     price: float | None) -> Order:
        try:
            found = self.fetch_order_by_client_id(cid)
        except ExchangeError as err:
            if err.halt:
                raise
            found = None  # placed for sure (we have its id); the status is read later
        if found is not None:
            return found
        return Order(str(reply["id"]), cid, symbol, side, type, float(amount), price, reply.get("status") or "open",
                     timestamp=reply.get("timestamp"))

    def _validate(self, symbol: str, side: str, type: str, amount: float, price: float | None, cid: str) -> Order:
        market = self.ccxt.market(symbol) if symbol in (self.ccxt.markets or {}) else None
        if market is None:
            raise ExchangeOrderError(f"Unknown symbol {symbol!r} on {self.name}")
        sized = self.size_order(symbol, side, type, amount, price)
        amount, price = sized.amount, sized.price if type == "limit" else price
        native = _NATIVE_VALIDATE.get(self.name)
        if native and self.ccxt.apiKey:  # without credentials (paper) the local checks are all there is
            self._call(self.ccxt.create_order, symbol, type, side, amount, price, {**native}, _order=True)
        return Order(None, cid, symbol, side, type, float(amount), price, "validated", validated_only=True,
                     timestamp=int(self.clock.now().timestamp() * 1000))

    # --- the gateway's primitives ---
    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None, *,
                        order_id: str | None = None) -> list[Trade]:
        """My fills, oldest first, since ``since`` (ms), optionally only those of ``order_id``. Kraken's
        TradesHistory pages 50 at a time: up to 20 pages are read."""
        self._ensure_markets()
        raw: list[dict[str, Any]] = []
        for _ in range(20):
            params = {"ofs": len(raw)} if raw and self.name == "kraken" else {}
            page = self._read(self.ccxt.fetch_my_trades, symbol, since, None, params)
            raw += page
            if self.name != "kraken" or len(page) < 50:
                break
        trades = {t.id: t for t in (trade_from_ccxt(r) for r in raw)}.values()
        return sorted((t for t in trades if order_id is None or t.order_id == order_id),
                      key=lambda t: (t.timestamp or 0, t.id))

    def cancel_all_after(self, seconds: int) -> dict[str, Any]:
        """Arm (or with 0 disarm) the exchange's dead-man timer: unless called again within ``seconds``,
        the exchange cancels every open order. Exchanges without one: a no-op that says so."""
        seconds = int(seconds)
        if not 0 <= seconds <= 86400:
            raise ExchangeOrderError(f"cancel_all_after: {seconds} s is outside 0..86400")
        result: dict[str, Any] = {"supported": bool(self.ccxt.has.get("cancelAllOrdersAfter")), "armed": False,
                                  "timeout_s": seconds, "trigger_time": None, "note": ""}
        if not result["supported"]:
            result["note"] = f"{self.name} has no dead-man switch: nothing armed"
        elif self.orders_validate_only:
            result["note"] = "validate-only orders: nothing rests on the exchange, nothing armed"
        else:
            self._ensure_markets()
            reply = (self._read(self.ccxt.cancel_all_orders_after, seconds * 1000) or {}).get("result") or {}
            result.update(armed=seconds > 0, trigger_time=reply.get("triggerTime") if seconds > 0 else None,
                          current_time=reply.get("currentTime"),
                          note=f"armed: all orders cancelled at {reply.get('triggerTime')} unless re-armed"
                          if seconds > 0 else "disarmed")
        return result

    def market_rules(self, symbol: str) -> MarketRules:
        self._ensure_markets()
        if symbol not in (self.ccxt.markets or {}):
            raise ExchangeOrderError(f"Unknown symbol {symbol!r} on {self.name}")
        return rules_from_market(self.ccxt, self.ccxt.market(symbol))

    def size_order(self, symbol: str, side: str, type: str, amount: float, price: float | None = None, *,
                   reference_price: float | None = None) -> SizedOrder:
        """Round to the pair's precision and check its minimums (``ExchangeOrderError`` with the reason).
        A market order's cost is checked at the touch (fetched when no ``reference_price`` is given)."""
        rules = self.market_rules(symbol)
        if type == "market" and reference_price is None and rules.cost_min:
            t = self.fetch_ticker(symbol)
            reference_price = (t.get("ask") if side == "buy" else t.get("bid")) or t["last"]
        return size_order(rules, side, type, amount, price, reference_price=reference_price)

    def fetch_balances(self) -> dict[str, dict[str, float]]:
        """Per currency: ``free`` (usable for new orders), ``used`` (held by open orders), ``total``."""
        self._ensure_markets()
        raw = self._read(self.ccxt.fetch_balance)
        out = {}
        for cur, total in (raw.get("total") or {}).items():
            if total is None:
                continue
            used = float((raw.get("used") or {}).get(cur) or 0.0)
            free = (raw.get("free") or {}).get(cur)
            out[cur] = {"free": float(free) if free is not None else float(total) - used, "used": used,
                        "total": float(total)}
        return out
