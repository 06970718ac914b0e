"""Kraken's pair table as its AssetPairs endpoint reports it (spot, the fields ccxt reads), for the pairs the
simulator trades. Values follow Kraken's public AssetPairs replies: ordermin, costmin, pair_decimals,
lot_decimals and tick_size are per pair; a pair not listed gets a generic entry with Kraken's usual shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Kraken's asset codes: legacy X/Z-prefixed for the old assets, plain for the newer ones
ASSET = {"BTC": "XXBT", "ETH": "XETH", "LTC": "XLTC", "XRP": "XXRP", "EUR": "ZEUR", "USD": "ZUSD", "GBP": "ZGBP"}
ALT = {"XXBT": "XBT", "XETH": "ETH", "XLTC": "LTC", "XXRP": "XRP", "ZEUR": "EUR", "ZUSD": "USD", "ZGBP": "GBP"}
# the only OHLC intervals Kraken serves (minutes); anything else is "EGeneral:Invalid arguments"
OHLC_INTERVALS = (1, 5, 15, 30, 60, 240, 1440, 10080, 21600)
OHLC_CAP = 720  # Kraken returns at most the last 720 candles of an interval, whatever `since` asks


def asset(code: str) -> str:
    return ASSET.get(code, code)


@dataclass(frozen=True)
class Pair:
    symbol: str  # unified, e.g. BTC/EUR
    id: str  # Kraken's pair id, e.g. XXBTZEUR
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: str
    costmin: str
    tick_size: str


def _pair(symbol: str, pid: str, altname: str, pair_decimals: int, ordermin: str, costmin: str = "0.5",
          lot_decimals: int = 8, cost_decimals: int = 5) -> Pair:
    base, quote = (asset(c) for c in symbol.split("/"))
    tick = "1" if pair_decimals == 0 else "0." + "0" * (pair_decimals - 1) + "1"
    ws = symbol.replace("BTC/", "XBT/")
    return Pair(symbol, pid, altname, ws, base, quote, pair_decimals, lot_decimals, cost_decimals, ordermin,
                costmin, tick)


KNOWN = {p.symbol: p for p in (
    _pair("BTC/EUR", "XXBTZEUR", "XBTEUR", 1, "0.00005"),
    _pair("BTC/USD", "XXBTZUSD", "XBTUSD", 1, "0.00005"),
    _pair("BTC/USDT", "XBTUSDT", "XBTUSDT", 1, "0.00005"),
    _pair("ETH/EUR", "XETHZEUR", "ETHEUR", 2, "0.002"),
    _pair("ETH/USD", "XETHZUSD", "ETHUSD", 2, "0.002"),
    _pair("LTC/USDT", "LTCUSDT", "LTCUSDT", 2, "0.05", cost_decimals=6),
    _pair("LTC/EUR", "XLTCZEUR", "LTCEUR", 2, "0.05"),
    _pair("XRP/USD", "XXRPZUSD", "XRPUSD", 5, "10", lot_decimals=8),
)}


def pair_for(symbol: str) -> Pair:
    if symbol in KNOWN:
        return KNOWN[symbol]
    base, quote = symbol.split("/")
    return _pair(symbol, asset(base) + asset(quote), base + quote, 2, "0.01")


def asset_pairs_reply(pairs: list[Pair], taker_pct: float, maker_pct: float) -> dict[str, Any]:
    """The ``result`` of ``/0/public/AssetPairs``, one entry per pair, keyed by the pair id."""
    out = {}
    for p in pairs:
        out[p.id] = {
            "altname": p.altname, "wsname": p.wsname, "aclass_base": "currency", "base": p.base,
            "aclass_quote": "currency", "quote": p.quote, "lot": "unit", "cost_decimals": p.cost_decimals,
            "pair_decimals": p.pair_decimals, "lot_decimals": p.lot_decimals, "lot_multiplier": 1,
            "leverage_buy": [], "leverage_sell": [],
            "fees": [[0, taker_pct], [50000, taker_pct - 0.02], [100000, taker_pct - 0.04]],
            "fees_maker": [[0, maker_pct], [50000, maker_pct - 0.02], [100000, maker_pct - 0.04]],
            "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40, "ordermin": p.ordermin,
            "costmin": p.costmin, "tick_size": p.tick_size, "status": "online",
        }
    return out


def assets_reply(pairs: list[Pair]) -> dict[str, Any]:
    codes = sorted({c for p in pairs for c in (p.base, p.quote)})
    return {c: {"aclass": "currency", "altname": ALT.get(c, c), "decimals": 10, "display_decimals": 5,
                "collateral_value": 1.0, "status": "enabled"} for c in codes}


def decimals_of(text: str) -> int:
    """Decimal places written in ``text`` ('0.00100' -> 5, '12' -> 0)."""
    return len(text.split(".", 1)[1]) if "." in text else 0
