"""Every Kraken error string the adapter can meet lands on the right class of runbook 7's taxonomy; the
simulator produces them (and Cloudflare's HTML pages) through the real ccxt client."""

from __future__ import annotations

import ccxt
import pytest

from peaktrade.clock import FakeClock
from peaktrade.exchange.base import (
    ExchangeAPIError,
    ExchangeAuthenticationError,
    ExchangeNetworkError,
    ExchangeOrderError,
    ExchangeOrderStateUnknown,
    ExchangeRateLimitError,
)
from peaktrade.exchange.errors_map import KRAKEN_MAP, map_ccxt_error

EXPECTED = {
    "EOrder:Insufficient funds": ExchangeOrderError, "EOrder:Order minimum not met": ExchangeOrderError,
    "EOrder:Cost minimum not met": ExchangeOrderError, "EOrder:Invalid price": ExchangeOrderError,
    "EOrder:Tick size check failed": ExchangeOrderError, "EOrder:Duplicate order": ExchangeOrderError,
    "EOrder:Unknown order": ExchangeOrderError, "EOrder:Orders limit exceeded": ExchangeOrderError,
    "EOrder:Rate limit exceeded": ExchangeRateLimitError, "EAPI:Rate limit exceeded": ExchangeRateLimitError,
    "EGeneral:Temporary lockout": ExchangeRateLimitError, "EGeneral:Too many requests": ExchangeRateLimitError,
    "EService:Unavailable": ExchangeNetworkError, "EService:Busy": ExchangeNetworkError,
    "EService:Deadline elapsed": ExchangeNetworkError, "EService:Market in cancel_only mode": ExchangeNetworkError,
    "EGeneral:Internal error": ExchangeNetworkError, "EAPI:Invalid nonce": ExchangeNetworkError,
    "EAPI:Invalid key": ExchangeAuthenticationError, "EAPI:Invalid signature": ExchangeAuthenticationError,
    "EGeneral:Permission denied": ExchangeAuthenticationError, "EQuery:Unknown asset pair": ExchangeAPIError,
    "EGeneral:Invalid arguments": ExchangeAPIError, "EGeneral:Unknown method": ExchangeAPIError,
}
# the ccxt class kraken raises for the string (exact map, else the plain ExchangeError)
CCXT_CLASS = {"EOrder:Insufficient funds": ccxt.InsufficientFunds, "EAPI:Rate limit exceeded": ccxt.DDoSProtection,
              "EService:Unavailable": ccxt.ExchangeNotAvailable, "EAPI:Invalid key": ccxt.AuthenticationError}


def raise_like_ccxt(code: str) -> Exception:
    return CCXT_CLASS.get(code, ccxt.ExchangeError)(f'kraken {{"error":["{code}"]}}')


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_string_and_its_suffixed_variants(code):
    for text in (code, f"{code}:some detail", f"{code}:XXBTZEUR price can only be specified up to 1 decimals."):
        err = map_ccxt_error(raise_like_ccxt(text))
        assert type(err) is EXPECTED[code], text
        assert err.exchange_code == text


def test_every_string_in_the_table_is_classified():
    for prefix, ours, message, retry_after in KRAKEN_MAP:
        err = map_ccxt_error(ccxt.ExchangeError(f'kraken {{"error":["{prefix}x"]}}'))
        assert isinstance(err, ours) and err.message == message
        assert (retry_after is not None) == (ours is ExchangeRateLimitError)


def test_invalid_arguments_of_an_order_are_order_errors():
    exc = ccxt.BadRequest('kraken {"error":["EGeneral:Invalid arguments:volume"]}')
    assert type(map_ccxt_error(exc)) is ExchangeAPIError
    assert type(map_ccxt_error(exc, order=True)) is ExchangeOrderError


@pytest.mark.parametrize(("fault", "expected", "code"), [
    ("service_unavailable", ExchangeNetworkError, "EService:Unavailable"),
    ("service_busy", ExchangeNetworkError, "EService:Busy"),
    ("cloudflare_520", ExchangeNetworkError, None),
    ("cloudflare_522", ExchangeNetworkError, None),
    ("order_rate_limit", ExchangeRateLimitError, "EOrder:Rate limit exceeded"),
])
def test_faults_through_ccxt(make_sim, connect, fault, expected, code):
    sim = make_sim()
    ex = connect(sim, attempts=1)
    path = "AddOrder" if fault == "order_rate_limit" else "BalanceEx"
    sim.inject(fault, path=path)
    with pytest.raises(expected) as err:
        if path == "AddOrder":
            ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id=f"f-{fault}")
        else:
            ex.fetch_balance()
    assert err.value.exchange_code == code and "<html" not in err.value.message.lower()


def test_cloudflare_page_is_html(make_sim):
    import urllib.error
    import urllib.request

    sim = make_sim()
    sim.inject("cloudflare_522")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(sim.base_url + "/0/public/Time", timeout=5)
    assert err.value.code == 522 and b"Error code 522" in err.value.read()


@pytest.mark.parametrize("fault", ["service_unavailable", "service_busy", "cloudflare_520", "cloudflare_522"])
def test_an_order_met_by_a_service_error_is_looked_up_not_resubmitted(make_sim, connect, fault):
    sim = make_sim()
    clock = FakeClock()
    ex = connect(sim, clock=clock)
    sim.inject(fault, path="AddOrder")
    with pytest.raises(ExchangeOrderStateUnknown):
        ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id="svc-1")
    assert sim.requests.count("private/AddOrder") == 1 and "private/OpenOrders" in sim.requests
    assert len(clock.sleeps) == 1  # one back-off before the lookup, then no retry


def test_a_refused_order_is_not_looked_up(make_sim, connect):
    sim = make_sim(balances={"EUR": 5.0})
    ex = connect(sim)
    with pytest.raises(ExchangeOrderError, match="Insufficient funds"):
        ex.create_order("BTC/EUR", "buy", "limit", 0.01, 1000.0, client_order_id="ref-1")
    assert sim.requests[-1] == "private/AddOrder"  # a stated refusal: nothing to look up afterwards
