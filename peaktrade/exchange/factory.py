"""Build the configured exchange client: the dummy exchange or the ccxt adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import UsageError

if TYPE_CHECKING:
    from peaktrade.config import Config
    from peaktrade.exchange.base import ExchangeClient

# shadow runs are paper trading; both names are accepted
MODES = ("paper", "shadow", "testnet", "live")


def make_exchange(config: Config, *, mode: str, clock: Clock = SYSTEM_CLOCK) -> ExchangeClient:
    """The exchange client for ``mode``. The dummy exchange is refused for live (it is not a market)."""
    if mode not in MODES:
        raise UsageError(f"unknown exchange mode {mode!r} (one of {', '.join(MODES)})")
    kind = config.exchange_type
    if kind == "dummy":
        if mode == "live":
            raise UsageError("the dummy exchange cannot trade live: set [exchange] default_type to a ccxt "
                             "exchange id (e.g. \"kraken\") in config/config.toml")
        from peaktrade.exchange.dummy import DummyExchange

        return DummyExchange(config.get("exchange.dummy", {}), clock=clock)
    from peaktrade.exchange.ccxt_adapter import CcxtExchange

    return CcxtExchange.from_config(config, mode=mode, clock=clock)
