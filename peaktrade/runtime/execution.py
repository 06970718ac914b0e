"""How an allowed order is executed: paper fills (shadow) or the exchange's testnet path.

Orders are never retried blindly: each carries a client order id, and after a network error the
exchange is asked for that id before anything else happens.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from peaktrade.runtime.book import Fill


@dataclass
class Execution:
    fill: Fill | None  # None: not filled (rejected, or accepted but not filled yet)
    rejected: bool = False
    error: str | None = None
    fatal: bool = False  # authentication failure: the session halts at once


class Executor(Protocol):
    def execute(self, side: str, quantity: float, mark: float) -> Execution: ...


class PaperExecutor:
    """Shadow mode: fill at the mark plus slippage against us, fee on the notional."""

    def __init__(self, fee_rate: float, slippage_bps: float):
        self.fee_rate, self.slippage_bps = fee_rate, slippage_bps

    def execute(self, side: str, quantity: float, mark: float) -> Execution:
        slip = self.slippage_bps / 10_000.0
        price = mark * (1 + slip) if side == "buy" else mark * (1 - slip)
        return Execution(Fill(side, quantity, price, quantity * price * self.fee_rate))


def client_order_id(run_id: str, step: int) -> str:
    return f"pt-{run_id[-6:]}-{step}-{secrets.token_hex(2)}"


def _fee_cost(fee: Any) -> float:
    if isinstance(fee, dict):
        return float(fee.get("cost") or 0.0)
    return float(fee or 0.0)


class ExchangeExecutor:
    """Testnet mode: a market order through the adapter (on the dummy exchange, its own orders)."""

    def __init__(self, exchange: Any, symbol: str, run_id: str, paper: PaperExecutor | None = None):
        self.exchange, self.symbol, self.run_id = exchange, symbol, run_id
        # an exchange without a sandbox only validates testnet orders (runbook 2.3): the book then
        # fills them on paper, so the run still has equity and PnL to show
        self.paper = paper or PaperExecutor(0.0026, 5.0)
        self._n = 0

    def execute(self, side: str, quantity: float, mark: float) -> Execution:
        from peaktrade.exchange import base

        self._n += 1
        cid = client_order_id(self.run_id, self._n)
        try:
            order = self.exchange.create_order(self.symbol, side, "market", quantity, None, client_order_id=cid)
        except base.ExchangeAuthenticationError as exc:
            return Execution(None, rejected=True, error=f"authentication failed: {exc}", fatal=True)
        except base.ExchangeOrderError as exc:
            return Execution(None, rejected=True, error=f"order rejected: {exc}")
        except (base.ExchangeNetworkError, base.ExchangeRateLimitError) as exc:
            order = self._reconcile(cid)
            if order is None:
                return Execution(None, rejected=True, error=f"order not placed ({type(exc).__name__}: {exc})")
        except base.ExchangeError as exc:
            return Execution(None, rejected=True, error=f"exchange error: {type(exc).__name__}: {exc}")
        if getattr(order, "validated_only", False):
            return self.paper.execute(side, quantity, mark)
        if not getattr(order, "id", None):
            return Execution(None, rejected=True, error="exchange reply carried no order id")
        filled = float(getattr(order, "filled", 0.0) or 0.0)
        if filled <= 0:
            return Execution(None)
        price = float(getattr(order, "average", None) or getattr(order, "price", None) or mark)
        return Execution(Fill(side, filled, price, _fee_cost(getattr(order, "fee", 0.0))))

    def _reconcile(self, cid: str) -> Any:
        try:
            return self.exchange.fetch_order_by_client_id(cid)
        except Exception:  # noqa: BLE001 - unknown outcome counts as not placed; never resubmitted
            return None
