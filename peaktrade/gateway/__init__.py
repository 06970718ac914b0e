"""The order gateway: the one road to an exchange (DESIGN 6). See ``peaktrade.gateway.core``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.config import Config
from peaktrade.gateway.core import Gateway, OrderOutcome, OrderRequest, account_for, client_order_id
from peaktrade.gateway.venues import DecideOnly, ExchangeVenue, PaperVenue, Venue, paper_price
from peaktrade.policy.limits import RiskLimits, load_risk_limits
from peaktrade.root import Root

__all__ = ["DecideOnly", "Gateway", "OrderOutcome", "OrderRequest", "account_for", "client_order_id",
           "open_gateway", "paper_price", "paper_venue"]

STAGE_OF = {"shadow": "shadow", "paper": "shadow", "testnet": "testnet", "live": "live"}


def paper_venue(config: Config) -> PaperVenue:
    return PaperVenue(float(config.get("session.fee_rate", 0.0026)), float(config.get("session.slippage_bps", 5.0)))


def open_gateway(root: Root, config: Config, mode: str, *, clock: Clock = SYSTEM_CLOCK,
                 log: logging.Logger | None = None, client: Any = None, limits: RiskLimits | None = None,
                 live_gate: Callable[[], str | None] | None = None, skip_limits: bool = False,
                 venue: Venue | None = None) -> Gateway:
    """The gateway for ``mode``'s account: paper fills for shadow, the exchange adapter otherwise.

    ``client`` is the exchange adapter to use (a session passes the one its feed reads from); ``limits``
    the limits pinned by a play (default: the stage's limits read now)."""
    if venue is None and mode in ("shadow", "paper"):
        venue = paper_venue(config)
    elif venue is None:
        if client is None:
            from peaktrade.exchange.factory import make_exchange

            client = make_exchange(config, mode=mode, clock=clock)
        venue = ExchangeVenue(client, paper_venue(config))
    limits = limits or load_risk_limits(root, STAGE_OF[mode])
    return Gateway(root, account=account_for(mode), venue=venue, limits=limits, clock=clock, log=log,
                   live_gate=live_gate, skip_limits=skip_limits,
                   # the live ledger starts empty and is filled from the exchange's balances (sync_from):
                   # until then its equity is 0 and every live decision fails closed
                   starting_cash=0.0 if mode == "live" else float(config.get("session.starting_cash", 10_000.0)))
