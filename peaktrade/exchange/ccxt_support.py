"""Glue between ccxt and our types: order conversion, URL rebasing, reply and log hygiene."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from peaktrade.exchange.base import Order


def order_from_ccxt(o: dict[str, Any]) -> Order:
    fee = (o.get("fee") or {}).get("cost")
    return Order(str(o["id"]) if o.get("id") else None, o.get("clientOrderId"), o.get("symbol") or "",
                 o.get("side") or "", o.get("type") or "", float(o.get("amount") or 0), o.get("price"),
                 o.get("status") or "open", float(o.get("filled") or 0), o.get("average"), float(fee or 0),
                 timestamp=o.get("timestamp"), info={})


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

