from __future__ import annotations

import ccxt
import pytest
from ccxt.base.errors import error_hierarchy

from peaktrade.exchange.base import (
    ExchangeAPIError,
    ExchangeAuthenticationError,
    ExchangeNetworkError,
    ExchangeOrderError,
    ExchangeRateLimitError,
)
from peaktrade.exchange.errors_map import map_ccxt_error


def all_ccxt_errors(tree: dict, out: list[str]) -> list[str]:
    for name, sub in tree.items():
        out.append(name)
        all_ccxt_errors(sub, out)
    return out


def expected(cls: type) -> type:
    if issubclass(cls, (ccxt.RateLimitExceeded, ccxt.DDoSProtection)):
        return ExchangeRateLimitError
    if issubclass(cls, ccxt.NetworkError):
        return ExchangeNetworkError
    if issubclass(cls, ccxt.AuthenticationError):
        return ExchangeAuthenticationError
    if issubclass(cls, (ccxt.InsufficientFunds, ccxt.InvalidOrder)):
        return ExchangeOrderError
    return ExchangeAPIError


NAMES = all_ccxt_errors(error_hierarchy, [])


def test_the_hierarchy_is_complete():
    assert len(NAMES) > 40 and "DDoSProtection" in NAMES and "AccountSuspended" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_ccxt_error_maps_to_the_taxonomy(name):
    cls = getattr(ccxt, name)
    err = map_ccxt_error(cls("kraken something went wrong"))
    assert type(err) is expected(cls)
    assert err.cause == name
    assert err.log_line().startswith(f"[EXCHANGE] {type(err).__name__}: ")


@pytest.mark.parametrize(("name", "cls"), [
    ("DDoSProtection", ExchangeRateLimitError), ("RateLimitExceeded", ExchangeRateLimitError),
    ("InvalidNonce", ExchangeNetworkError), ("RequestTimeout", ExchangeNetworkError),
    ("ExchangeNotAvailable", ExchangeNetworkError), ("OnMaintenance", ExchangeNetworkError),
    ("PermissionDenied", ExchangeAuthenticationError), ("AccountSuspended", ExchangeAuthenticationError),
    ("InsufficientFunds", ExchangeOrderError), ("InvalidOrder", ExchangeOrderError),
    ("OrderNotFound", ExchangeOrderError), ("BadRequest", ExchangeAPIError), ("NotSupported", ExchangeAPIError),
])
def test_the_runbook_mapping(name, cls):
    assert type(map_ccxt_error(getattr(ccxt, name)("x"))) is cls


def test_kraken_invalid_signature_is_authentication():
    err = map_ccxt_error(ccxt.ExchangeError('kraken {"error":["EAPI:Invalid signature"]}'))
    assert isinstance(err, ExchangeAuthenticationError) and err.halt


def test_garbage_parse_errors_are_api_errors():
    err = map_ccxt_error(TypeError("'NoneType' object is not subscriptable"))
    assert type(err) is ExchangeAPIError and err.message == "Unreadable reply (TypeError)"


def test_severities_follow_runbook_7():
    assert [c.severity for c in (ExchangeNetworkError, ExchangeRateLimitError, ExchangeAuthenticationError,
                                 ExchangeOrderError, ExchangeAPIError)] == ["medium", "low", "high", "medium", "medium"]
