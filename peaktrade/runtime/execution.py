"""Paper fills for backtests (the same fee and slippage as a shadow session's paper venue).

Sessions never execute orders here: they submit through the order gateway (``peaktrade.gateway``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from peaktrade.gateway import paper_price
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
        price = paper_price(side, mark, self.slippage_bps)  # the same fill as a shadow session's paper venue
        return Execution(Fill(side, quantity, price, quantity * price * self.fee_rate))
