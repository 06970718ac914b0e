"""Every ccxt exception class, and every Kraken error string the adapter can meet, mapped onto the
taxonomy of runbook 7.

Kraken's own string decides first (ccxt files several of them under classes that would mislead us: a
cost minimum is a plain ``ExchangeError`` to ccxt, ``EGeneral:Temporary lockout`` a ``DDoSProtection``);
strings match by prefix, so suffixed variants (``EOrder:Insufficient funds:...``) map the same. Otherwise
the ccxt class decides: the table is ordered most specific first and matched with ``isinstance``, so every
ccxt class lands on exactly one of our classes; anything that is not a ccxt error (a garbage reply that
breaks ccxt's parser: TypeError, ValueError, KeyError) is an API error.
"""

from __future__ import annotations

import re

from peaktrade.exchange.base import (
    ExchangeAPIError,
    ExchangeAuthenticationError,
    ExchangeError,
    ExchangeNetworkError,
    ExchangeOrderError,
    ExchangeRateLimitError,
)
from peaktrade.redact import redact_text

# (ccxt class name, our class, the short message of the seed's log line)
CCXT_MAP: tuple[tuple[str, type[ExchangeError], str], ...] = (
    ("RateLimitExceeded", ExchangeRateLimitError, "Rate limit exceeded"),
    ("DDoSProtection", ExchangeRateLimitError, "Rate limit exceeded"),
    ("RequestTimeout", ExchangeNetworkError, "Request timeout"),
    ("InvalidNonce", ExchangeNetworkError, "Invalid nonce"),
    ("OnMaintenance", ExchangeNetworkError, "Exchange on maintenance"),
    ("ExchangeNotAvailable", ExchangeNetworkError, "Exchange not available"),
    ("NetworkError", ExchangeNetworkError, "Network error"),
    ("AccountSuspended", ExchangeAuthenticationError, "Account suspended"),
    ("PermissionDenied", ExchangeAuthenticationError, "Permission denied"),
    ("AuthenticationError", ExchangeAuthenticationError, "Authentication failed"),
    ("InsufficientFunds", ExchangeOrderError, "Insufficient funds"),
    ("OrderNotFound", ExchangeOrderError, "Order not found"),
    ("InvalidOrder", ExchangeOrderError, "Invalid order"),
    ("BadSymbol", ExchangeAPIError, "Unknown symbol"),
    ("BadResponse", ExchangeAPIError, "Unreadable reply"),
    ("ExchangeError", ExchangeAPIError, "Exchange error"),
    ("BaseError", ExchangeAPIError, "Exchange error"),
)
LOCKOUT_S = 900.0  # Kraken's temporary lockout lasts about 15 minutes
RATE_LIMIT_S = 60.0  # runbook 7: wait 60-120 s after a rate limit

# (Kraken string prefix, our class, short message, retry-after hint in s). Longest prefix wins.
KRAKEN_MAP: tuple[tuple[str, type[ExchangeError], str, float | None], ...] = (
    ("EAPI:Invalid key", ExchangeAuthenticationError, "Authentication failed", None),
    ("EAPI:Invalid signature", ExchangeAuthenticationError, "Authentication failed", None),
    ("EAPI:Invalid nonce", ExchangeNetworkError, "Invalid nonce", None),
    ("EAPI:Rate limit exceeded", ExchangeRateLimitError, "Rate limit exceeded", RATE_LIMIT_S),
    ("EAPI:Feature disabled", ExchangeAPIError, "Feature disabled", None),
    ("EAPI:Bad request", ExchangeAPIError, "Bad request", None),
    ("EGeneral:Temporary lockout", ExchangeRateLimitError, "Temporary lockout", LOCKOUT_S),
    ("EGeneral:Too many requests", ExchangeRateLimitError, "Rate limit exceeded", RATE_LIMIT_S),
    ("EGeneral:Permission denied", ExchangeAuthenticationError, "Permission denied", None),
    ("EGeneral:Internal error", ExchangeNetworkError, "Exchange internal error", None),
    ("EGeneral:Unknown method", ExchangeAPIError, "Unknown method", None),
    ("EGeneral:Invalid arguments", ExchangeAPIError, "Invalid arguments", None),  # an order's: order error
    ("ESession:Invalid session", ExchangeAuthenticationError, "Authentication failed", None),
    ("ETrade:User Locked", ExchangeAuthenticationError, "Account locked", None),
    ("EService:Unavailable", ExchangeNetworkError, "Exchange not available", None),
    ("EService:Busy", ExchangeNetworkError, "Exchange busy", None),
    ("EService:Deadline elapsed", ExchangeNetworkError, "Request deadline elapsed", None),
    ("EService:Market in cancel_only mode", ExchangeNetworkError, "Market in cancel-only mode", None),
    ("EService:Market in post_only mode", ExchangeNetworkError, "Market in post-only mode", None),
    ("EService:Market in limit_only mode", ExchangeNetworkError, "Market in limit-only mode", None),
    ("EService:Throttled", ExchangeRateLimitError, "Throttled", RATE_LIMIT_S),
    ("EService: Throttled", ExchangeRateLimitError, "Throttled", RATE_LIMIT_S),  # as Kraken's docs spell it
    ("EService:", ExchangeNetworkError, "Exchange not available", None),
    ("EDatabase:Internal error", ExchangeNetworkError, "Exchange internal error", None),
    ("EOrder:Rate limit exceeded", ExchangeRateLimitError, "Order rate limit exceeded", RATE_LIMIT_S),
    ("EOrder:Insufficient funds", ExchangeOrderError, "Insufficient funds", None),
    ("EOrder:Order minimum not met", ExchangeOrderError, "Order minimum not met", None),
    ("EOrder:Cost minimum not met", ExchangeOrderError, "Cost minimum not met", None),
    ("EOrder:Tick size check failed", ExchangeOrderError, "Tick size check failed", None),
    ("EOrder:Invalid price", ExchangeOrderError, "Invalid price", None),
    ("EOrder:Invalid order", ExchangeOrderError, "Invalid order", None),
    ("EOrder:Unknown order", ExchangeOrderError, "Order not found", None),
    ("EOrder:Duplicate order", ExchangeOrderError, "Duplicate client order id", None),
    ("EOrder:Orders limit exceeded", ExchangeOrderError, "Open orders limit exceeded", None),
    ("EOrder:Scheduled orders limit exceeded", ExchangeOrderError, "Scheduled orders limit exceeded", None),
    ("EOrder:Positions limit exceeded", ExchangeOrderError, "Positions limit exceeded", None),
    ("EOrder:Trading agreement required", ExchangeOrderError, "Trading agreement required", None),
    ("EOrder:Post only order", ExchangeOrderError, "Post-only order would take", None),
    ("EOrder:", ExchangeOrderError, "Order rejected", None),
    ("EQuery:Unknown asset pair", ExchangeAPIError, "Unknown symbol", None),
    ("EQuery:Invalid asset pair", ExchangeAPIError, "Unknown symbol", None),
    ("EQuery:Unknown asset", ExchangeAPIError, "Unknown asset", None),
    ("EQuery:", ExchangeAPIError, "Query error", None),
    ("EFunding:", ExchangeAPIError, "Funding error", None),
)
_KRAKEN_TEXT = re.compile(r"\b(E(?:API|General|Service|Order|Query|Trade|Session|Database|Funding|Margin)"
                          r":[^\"\]\[]*)")


def kraken_error_code(text: str) -> str | None:
    """The first Kraken error string in ``text`` (ccxt's message carries the reply body)."""
    m = _KRAKEN_TEXT.search(text)
    return m.group(1).strip() if m else None


def map_kraken_error(code: str, *, order: bool = False, detail: str | None = None,
                     cause: str | None = None) -> ExchangeError | None:
    """Our error for a Kraken error string (None if the string is not Kraken's). ``order``: the string
    answered an order placement, so ``EGeneral:Invalid arguments:*`` is a refused order, not an API error."""
    best = None
    for prefix, ours, message, retry_after in KRAKEN_MAP:
        if code.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, ours, message, retry_after)
    if best is None:
        return None
    prefix, ours, message, retry_after = best
    if order and prefix == "EGeneral:Invalid arguments":
        ours, message = ExchangeOrderError, "Invalid order arguments"
    err = ours(message, details=[detail or code], cause=cause, retry_after_s=retry_after, exchange_code=code)
    if prefix == "EGeneral:Temporary lockout":
        err.retry_reads = False  # 15 minutes is past any read back-off: report at once, with the hint
    return err


def map_ccxt_error(exc: BaseException, *, order: bool = False) -> ExchangeError:
    import ccxt

    detail = redact_text(str(exc))[:300]
    code = kraken_error_code(str(exc)) if isinstance(exc, ccxt.BaseError) else None
    if code:
        mapped = map_kraken_error(code, order=order, detail=detail, cause=type(exc).__name__)
        if mapped is not None:
            return mapped
    for name, ours, message in CCXT_MAP:
        klass = getattr(ccxt, name, None)
        if klass is not None and isinstance(exc, klass):
            retry_after = RATE_LIMIT_S if ours is ExchangeRateLimitError else None
            return ours(message, details=[detail], cause=type(exc).__name__, retry_after_s=retry_after)
    return ExchangeAPIError(f"Unreadable reply ({type(exc).__name__})", details=[detail], cause=type(exc).__name__)
