"""How hard the simulator is: behaviour profiles, the injectable faults and Kraken's two rate counters.

The default profile (``easy``) keeps the simulator's historical flow (orders open at once, market and
marketable orders fill completely on placement, no rate counters) so smoke, readiness and session tests
stay fast and deterministic; ``kraken`` switches on what makes an order path work hard (pending orders,
fills spread over several requests, the server-side rate counters). Each field can be set per test.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

# faults a test injects for the next N requests (optionally only for one endpoint)
FAULTS = ("timeout", "http_500", "rate_limit", "invalid_key", "invalid_nonce", "insufficient_funds", "garbage",
          "accept_then_timeout", "late_landing", "order_rate_limit", "service_unavailable", "service_busy",
          "lockout", "cloudflare_520", "cloudflare_522", "internal_error")
# faults answered with a Kraken error body (HTTP 200, as Kraken does)
ERROR_REPLIES = {
    "rate_limit": "EAPI:Rate limit exceeded", "invalid_key": "EAPI:Invalid key",
    "invalid_nonce": "EAPI:Invalid nonce", "insufficient_funds": "EOrder:Insufficient funds",
    "order_rate_limit": "EOrder:Rate limit exceeded", "service_unavailable": "EService:Unavailable",
    "service_busy": "EService:Busy", "lockout": "EGeneral:Temporary lockout",
    "internal_error": "EGeneral:Internal error",
}
ORDER_ONLY = {"insufficient_funds", "order_rate_limit"}  # only meaningful for AddOrder
WRITES = ("AddOrder", "CancelOrder", "CancelAll", "CancelAllOrdersAfter")  # where the landing faults apply
LANDING = {"accept_then_timeout", "late_landing"}


def cloudflare_page(code: int) -> str:
    """The shape of the HTML error page Cloudflare serves in front of Kraken (520: the origin answered
    something unexpected; 522: the connection to the origin timed out)."""
    title = {520: "Web server is returning an unknown error", 522: "Connection timed out"}[code]
    return (f"<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>api.kraken.com | {code}: {title}</title></head>"
            f"<body><div id=\"cf-error-details\"><h1><span class=\"inline-block\">{title}</span>"
            f"<span class=\"code-label\">Error code {code}</span></h1>"
            f"<p>Cloudflare Ray ID: <strong>8f0c1d2e3a4b5c6d</strong></p></div></body></html>")


@dataclass
class Behaviour:
    pending_requests: int = 0  # requests an order stays `pending` before it is `open`
    fill_steps: int = 1  # a taking order fills over this many requests (1: completely on placement)
    maker_steps: int = 1  # a resting order, once crossed, fills over this many requests
    rate_counters: bool = False  # Kraken's REST call counter and per-pair trading counter
    api_counter_max: float = 15.0  # Starter tier
    api_counter_decay: float = 0.33  # per second
    trade_counter_max: float = 60.0  # Starter tier, per pair
    trade_counter_decay: float = 1.0  # per second
    late_landing_delay_s: float = 0.6  # a late AddOrder is applied this long after the client gave up
    lockout_s: float = 900.0  # EGeneral:Temporary lockout lasts about 15 minutes


PROFILES = {
    "easy": Behaviour(),
    "kraken": Behaviour(pending_requests=1, fill_steps=3, maker_steps=2, rate_counters=True),
}


def profile(name: str) -> Behaviour:
    if name not in PROFILES:
        raise ValueError(f"unknown simulator profile {name!r}; one of {', '.join(PROFILES)}")
    return replace(PROFILES[name])


class DecayCounter:
    """Kraken's counter: each call adds its cost, the count decays linearly with time, and a call that
    would take it past the maximum is refused (and does not count)."""

    def __init__(self, maximum: float, decay_per_s: float):
        self.maximum, self.decay = maximum, decay_per_s
        self.value, self._at = 0.0, time.monotonic()

    def _decay(self) -> None:
        now = time.monotonic()
        self.value = max(0.0, self.value - (now - self._at) * self.decay)
        self._at = now

    def try_add(self, cost: float) -> bool:
        self._decay()
        if self.value + cost > self.maximum:
            return False
        self.value += cost
        return True

    def add(self, cost: float) -> None:
        self._decay()
        self.value += cost


def cancel_penalty(age_s: float) -> int:
    """Kraken's trading-counter cost of cancelling an order, by the order's age (young orders cost most)."""
    for limit, cost in ((5, 8), (10, 6), (15, 5), (45, 4), (90, 2), (300, 1)):
        if age_s < limit:
            return cost
    return 0
