"""Every ccxt exception class mapped onto the taxonomy of runbook 7.

The table is ordered most specific first and matched with ``isinstance``, so every ccxt class (and
any future subclass) lands on exactly one of our five classes; anything that is not a ccxt error
(a garbage reply that breaks ccxt's parser: TypeError, ValueError, KeyError) is an API error.
"""

from __future__ import annotations

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
# Kraken reports a wrong secret as an error ccxt does not classify; it is an authentication failure.
_AUTH_TEXT = ("EAPI:Invalid key", "EAPI:Invalid signature", "EGeneral:Permission denied")


def map_ccxt_error(exc: BaseException) -> ExchangeError:
    import ccxt

    detail = redact_text(str(exc))[:300]
    if isinstance(exc, ccxt.ExchangeError) and not isinstance(exc, ccxt.AuthenticationError) \
            and any(t in str(exc) for t in _AUTH_TEXT):
        return ExchangeAuthenticationError("Authentication failed", details=[detail], cause=type(exc).__name__)
    for name, ours, message in CCXT_MAP:
        klass = getattr(ccxt, name, None)
        if klass is not None and isinstance(exc, klass):
            return ours(message, details=[detail], cause=type(exc).__name__)
    return ExchangeAPIError(f"Unreadable reply ({type(exc).__name__})", details=[detail], cause=type(exc).__name__)
