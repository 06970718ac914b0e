"""The exchange interface every other part uses, the ``Order`` value and the error taxonomy of runbook 7.

The taxonomy classes are ``PeakTradeError`` subclasses so that a command which lets one escape prints
one clear line (the runbook's log line) and exits 1; ``ExchangeAuthenticationError`` additionally carries
``halt = True``: whoever catches it must stop trading, never retry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from peaktrade.errors import PeakTradeError

ORDER_SIDES = ("buy", "sell")
ORDER_TYPES = ("market", "limit")


@dataclass
class Order:
    id: str | None
    client_order_id: str | None
    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    status: str  # open | closed | canceled | rejected | validated
    filled: float = 0.0
    average: float | None = None
    fee: float = 0.0
    validated_only: bool = False
    timestamp: int | None = None  # ms since the epoch, when the exchange reports it
    info: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("info")
        return data


@runtime_checkable
class ExchangeClient(Protocol):
    name: str

    def server_time(self) -> int: ...

    def load_markets(self) -> dict[str, Any]: ...

    def fetch_ticker(self, symbol: str) -> dict[str, Any]: ...

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None = None,
                    limit: int | None = None) -> list[list[float]]: ...

    def fetch_balance(self) -> dict[str, float]: ...

    def create_order(self, symbol: str, side: str, type: str, amount: float, price: float | None = None, *,
                     client_order_id: str | None = None, validate_only: bool = False) -> Order: ...

    def cancel_order(self, order_id: str, symbol: str | None = None) -> None: ...

    def cancel_all_orders(self, symbol: str | None = None) -> int: ...

    def fetch_open_orders(self, symbol: str | None = None) -> list[Order]: ...

    def fetch_closed_orders(self, symbol: str | None = None) -> list[Order]: ...

    def fetch_order_by_client_id(self, client_order_id: str) -> Order | None: ...


class ExchangeError(PeakTradeError):
    """Base of the taxonomy. ``severity`` and ``operator_action`` follow runbook 7."""

    severity = "medium"
    operator_action = "Read the log, check the exchange status; see playbook incident-exchange-error."
    retry_reads = False  # may a read request be retried after this error?
    halt = False  # must the session stop at once?
    error_type = "api"  # the incident-exchange-error param value
    retry_after_s: float | None = None  # rate limits: wait at least this long before the next request

    def __init__(self, message: str, *, details: list[str] | None = None, cause: str | None = None,
                 retry_after_s: float | None = None, exchange_code: str | None = None):
        super().__init__(message, details=details)
        self.cause = cause  # the underlying exception class name (e.g. ccxt's), for the log
        if retry_after_s is not None:
            self.retry_after_s = retry_after_s
        self.exchange_code = exchange_code  # the exchange's own error string, e.g. "EOrder:Insufficient funds"

    def log_line(self) -> str:
        """The seed's log line: ``[EXCHANGE] ExchangeRateLimitError: Rate limit exceeded``."""
        from peaktrade.redact import redact_text

        return redact_text(f"[EXCHANGE] {type(self).__name__}: {self.message}")


class ExchangeNetworkError(ExchangeError):
    severity = "medium"
    operator_action = ("Check the exchange status page and your own network; reads retry with backoff. "
                       "Exchange down: wait. Own network: fix it. Persistent: pause (runbook 4).")
    retry_reads = True
    error_type = "network"


class ExchangeOrderStateUnknown(ExchangeNetworkError):
    """An order request whose outcome is unknown (no reply, and the lookup by client id found nothing or
    failed): it may still land. Never resubmit; reconcile by client id (open and closed orders, trades)."""

    severity = "high"
    operator_action = ("Do not place the order again: reconcile it by client order id (open and closed orders, "
                       "trades); if it stays unknown, pause the session and follow runbook 7.")
    retry_reads = False

    def __init__(self, message: str, *, client_order_id: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.client_order_id = client_order_id


class ExchangeRateLimitError(ExchangeError):
    severity = "low"
    operator_action = ("Wait 60-120 s (the client backs off by itself); if it persists raise "
                       "[exchange] rate_limit_ms in config/config.toml and restart.")
    retry_reads = True
    error_type = "rate_limit"


class ExchangeAuthenticationError(ExchangeError):
    severity = "high"
    operator_action = ("CRITICAL: pause everything now (kill switch), check the API key variables are set, "
                       "validate the key on the exchange website, rotate it at once if compromised.")
    halt = True
    error_type = "authentication"


class ExchangeOrderError(ExchangeError):
    severity = "medium"
    operator_action = ("The order was rejected and is not retried: pause, read the logs, find the cause "
                       "(funds, size, price, symbol).")
    error_type = "order"


class ExchangeAPIError(ExchangeError):
    severity = "medium"
    operator_action = "Pause and check the exchange status and its API changelog; read the full log line."
    error_type = "api"


TAXONOMY: tuple[type[ExchangeError], ...] = (
    ExchangeNetworkError, ExchangeRateLimitError, ExchangeAuthenticationError, ExchangeOrderError, ExchangeAPIError,
)


def taxonomy_table() -> list[dict[str, str]]:
    """The error table of runbook 7 as data (for docs and ``--json`` output)."""
    return [{"error": cls.__name__, "type": cls.error_type, "severity": cls.severity,
             "retry_reads": "yes" if cls.retry_reads else "no", "halt": "yes" if cls.halt else "no",
             "operator_action": cls.operator_action} for cls in TAXONOMY]


def check_order_args(symbol: str, side: str, type: str, amount: float, price: float | None) -> None:
    """Reject malformed orders before they reach any exchange."""
    if side not in ORDER_SIDES:
        raise ExchangeOrderError(f"Invalid order side {side!r} (buy or sell)")
    if type not in ORDER_TYPES:
        raise ExchangeOrderError(f"Invalid order type {type!r} (market or limit)")
    if not amount or amount <= 0:
        raise ExchangeOrderError(f"Invalid order amount {amount!r} for {symbol}: must be > 0")
    if type == "limit" and (price is None or price <= 0):
        raise ExchangeOrderError(f"Limit order for {symbol} needs a price > 0")


def new_client_order_id() -> str:
    """A fresh client order id: 18 characters, within Kraken's ``cl_ord_id`` free-text limit."""
    import secrets

    return "pt" + secrets.token_hex(8)


def timeframe_ms(timeframe: str) -> int:
    """``1m`` -> 60000; ``4h``, ``1d``, ``1w`` alike."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        n, unit = int(timeframe[:-1]), timeframe[-1]
        if n <= 0 or unit not in units:
            raise ValueError
    except (ValueError, IndexError):
        raise ExchangeAPIError(f"Unsupported timeframe {timeframe!r} (e.g. 1m, 5m, 1h, 1d)") from None
    return n * units[unit] * 1000


# --- the gateway's primitives (additive: ExchangeClient is unchanged) ---
@dataclass
class Trade:
    """One fill ("my trade"), as the exchange books it."""

    id: str
    order_id: str | None
    symbol: str
    side: str
    amount: float
    price: float
    cost: float
    fee: float
    fee_currency: str | None
    timestamp: int | None  # ms since the epoch
    maker: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MarketRules:
    """What a pair accepts: minimum amount (Kraken's ordermin) and cost (costmin), amount step and price
    tick (Kraken's lot_decimals and pair_decimals), and the fee rates."""

    symbol: str
    amount_min: float | None
    cost_min: float | None
    amount_step: float | None  # e.g. 1e-08
    price_tick: float | None  # e.g. 0.1
    maker_fee: float | None = None
    taker_fee: float | None = None


@dataclass(frozen=True)
class SizedOrder:
    """An order rounded to the pair's precision and checked against its minimums."""

    symbol: str
    side: str
    type: str
    amount: float
    price: float | None
    notional: float  # amount x (limit price, or the reference price of a market order)


def _step_round(value: float, step: float, mode: str) -> float:
    import math

    if not step:
        return value
    n = value / step
    n = math.floor(n + 1e-9) if mode == "down" else math.ceil(n - 1e-9) if mode == "up" else round(n)
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return round(n * step, decimals + 2)


def size_order(rules: MarketRules, side: str, type: str, amount: float, price: float | None = None, *,
               reference_price: float | None = None) -> SizedOrder:
    """Round an order to the pair's precision and check its minimums before it leaves.

    The amount is truncated to the amount step (never more than asked); a limit price goes to the tick,
    never more aggressively than asked (a buy rounds down, a sell up). A market order's notional uses
    ``reference_price`` (the touch). Raises ``ExchangeOrderError`` with the reason when it cannot be sized.
    """
    check_order_args(rules.symbol, side, type, amount, price)
    sized = _step_round(amount, rules.amount_step or 0.0, "down")
    if sized <= 0:
        raise ExchangeOrderError(f"Order minimum not met: {amount} {rules.symbol} rounds to 0 "
                                 f"(amount step {rules.amount_step})")
    px = None
    if type == "limit" and price is not None:
        px = _step_round(price, rules.price_tick or 0.0, "down" if side == "buy" else "up")
        if px <= 0:
            raise ExchangeOrderError(f"Invalid price: {price} for {rules.symbol} rounds to 0 "
                                     f"(tick {rules.price_tick})")
    if rules.amount_min and sized < rules.amount_min - 1e-12:
        raise ExchangeOrderError(f"Order minimum not met: {sized} < {rules.amount_min} for {rules.symbol}")
    ref = px if px is not None else reference_price
    notional = sized * ref if ref else 0.0
    if rules.cost_min and ref and notional < rules.cost_min - 1e-12:
        raise ExchangeOrderError(f"Cost minimum not met: {sized} x {ref} = {notional:.8g} < {rules.cost_min} "
                                 f"for {rules.symbol}")
    return SizedOrder(rules.symbol, side, type, sized, px, notional)


@runtime_checkable
class GatewayExchange(ExchangeClient, Protocol):
    """What the order gateway uses on top of ``ExchangeClient`` (docs/exchange.md, "Adapter API for the
    gateway")."""

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None, *,
                        order_id: str | None = None) -> list[Trade]: ...

    def cancel_all_after(self, seconds: int) -> dict[str, Any]: ...

    def market_rules(self, symbol: str) -> MarketRules: ...

    def size_order(self, symbol: str, side: str, type: str, amount: float, price: float | None = None, *,
                   reference_price: float | None = None) -> SizedOrder: ...

    def fetch_balances(self) -> dict[str, dict[str, float]]: ...
