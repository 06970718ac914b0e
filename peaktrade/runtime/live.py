"""What a live session needs beyond a testnet one: the gate re-checked in the worker, the size limits of
the signed request, and a ledger that starts from the exchange's own balances.

The worker has no in-process verified approval (the play that started it verified one): it re-verifies
the stored request (``policy.gate.live_gate_for_request``: signatures, roles, expiry, its use held by the
starting play, live.enabled, the desk stage). Before each order the answer is reused for a few seconds;
the kill switch is read on every order regardless.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from peaktrade.clock import Clock
from peaktrade.gateway import Gateway
from peaktrade.policy.approvals import load_request
from peaktrade.policy.gate import live_gate_for_request
from peaktrade.policy.limits import RiskLimits, load_risk_limits
from peaktrade.root import Root

RECHECK_S = 10.0


class LiveGateCache:
    def __init__(self, root: Root, request_id: str, play_id: str, clock: Clock):
        self.root, self.request_id, self.play_id, self.clock = root, request_id, play_id, clock
        self._at: float | None = None
        self._answer: str | None = None

    def __call__(self) -> str | None:
        now = self.clock.monotonic()
        if self._at is None or now - self._at > RECHECK_S or self._answer is not None:
            self._answer = live_gate_for_request(self.root, self.request_id, play_id=self.play_id, clock=self.clock)
            self._at = now
        return self._answer


def signed_live_limits(root: Root, request_id: str) -> RiskLimits:
    """The live limits, tightened by the size the signed request names (``max_notional`` param)."""
    limits = load_risk_limits(root, "live")
    params = (load_request(root, request_id)["request"].get("subject") or {}).get("params") or {}
    signed = params.get("max_notional")
    if isinstance(signed, (int, float)) and signed > 0:
        cap = float(signed) if limits.max_order_notional is None else min(float(signed), limits.max_order_notional)
        limits = dataclasses.replace(limits, max_order_notional=cap)
    return limits


def sync_ledger(gateway: Gateway, exchange: Any, symbol: str) -> None:
    """A session on a real exchange account (live, a testnet sandbox) starts its ledger from what the
    exchange reports: the quote balance and the symbol's base balance, at the current mark."""
    base, quote = symbol.split("/")
    balances = {k: float(v) for k, v in exchange.fetch_balance().items() if isinstance(v, (int, float))}
    marks = {symbol: float(exchange.fetch_ticker(symbol)["last"])}
    gateway.sync_from({quote: balances.get(quote, 0.0), base: balances.get(base, 0.0)}, quote=quote, marks=marks)
