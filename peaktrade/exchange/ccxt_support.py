"""Glue between ccxt and our types: order conversion, URL rebasing, reply and log hygiene."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from peaktrade.exchange.base import MarketRules, Order, Trade


def order_from_ccxt(o: dict[str, Any]) -> Order:
    fee = (o.get("fee") or {}).get("cost")
    raw = o.get("info") if isinstance(o.get("info"), dict) else {}
    # the exchange's own status survives in info: Kraken's `pending` is `open` to ccxt
    info = {k: raw[k] for k in ("status", "userref", "reason") if raw.get(k) is not None}
    return Order(str(o["id"]) if o.get("id") else None, o.get("clientOrderId"), o.get("symbol") or "",
                 o.get("side") or "", o.get("type") or "", float(o.get("amount") or 0), o.get("price"),
                 o.get("status") or "open", float(o.get("filled") or 0), o.get("average"), float(fee or 0),
                 timestamp=o.get("timestamp"), info=info)


def trade_from_ccxt(t: dict[str, Any]) -> Trade:
    fee = t.get("fee") or {}
    maker = t.get("takerOrMaker")
    return Trade(str(t.get("id")), t.get("order"), t.get("symbol") or "", t.get("side") or "",
                 float(t.get("amount") or 0), float(t.get("price") or 0), float(t.get("cost") or 0),
                 float(fee.get("cost") or 0), fee.get("currency"), t.get("timestamp"),
                 None if maker is None else maker == "maker")


def rules_from_market(exchange: Any, m: dict[str, Any]) -> MarketRules:
    """ccxt's market as our rules; precision is a step/tick in TICK_SIZE mode, else a count of digits."""
    from ccxt.base.decimal_to_precision import TICK_SIZE

    limits, precision = m.get("limits") or {}, m.get("precision") or {}

    def step(value: Any) -> float | None:
        if value is None:
            return None
        return float(value) if exchange.precisionMode == TICK_SIZE else 10.0 ** -float(value)

    return MarketRules(m["symbol"], (limits.get("amount") or {}).get("min"), (limits.get("cost") or {}).get("min"),
                       step(precision.get("amount")), step(precision.get("price")), m.get("maker"), m.get("taker"))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from peaktrade.redact import redact_text

        record.msg, record.args = redact_text(record.getMessage()), None
        return True


def redact_ccxt_logs() -> None:
    """ccxt logs every request with its API-Key header at DEBUG: mask it before any handler sees it."""
    target = logging.getLogger("ccxt.base.exchange")
    if not any(isinstance(f, RedactingFilter) for f in target.filters):
        target.addFilter(RedactingFilter())


def json_only(hook: Callable[..., str], bad_response: type[Exception]) -> Callable[..., str]:
    """ccxt parses a garbage body as None and carries on (an order "placed" without an id, a server time
    of None); a reply that is not JSON is refused here, before ccxt can read anything into it."""

    def check(code: int, reason: str, url: str, method: str, headers: Any, body: str, *rest: Any) -> str:
        text = hook(code, reason, url, method, headers, body, *rest)
        if 200 <= int(code) < 300 and not (text or "").lstrip().startswith(("{", "[")):
            raise bad_response(f"unreadable reply from {method} {url.split('?')[0]}: not JSON")
        return text

    return check


def rebase_urls(api: Any, base_url: str) -> Any:
    """Point every API URL at ``base_url`` (the loopback simulator), keeping the paths ccxt appends."""
    from urllib.parse import urlsplit

    if isinstance(api, dict):
        return {k: rebase_urls(v, base_url) for k, v in api.items()}
    if isinstance(api, str) and api.startswith("http"):
        parts = urlsplit(api)
        return base_url + parts.path.rstrip("/")
    return api

