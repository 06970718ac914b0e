"""Moving-average crossover: long while the fast mean is above the slow mean, flat otherwise.

Spot markets cannot be shorted, so a bearish cross closes the position instead of selling short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peaktrade.errors import UsageError


@dataclass(frozen=True)
class MaCrossover:
    fast_window: int = 5
    slow_window: int = 20
    position_fraction: float = 0.005
    name: str = "ma_crossover"

    @property
    def warmup_bars(self) -> int:
        return self.slow_window

    def signal(self, closes: Sequence[float]) -> int:
        if len(closes) < self.slow_window:
            return 0
        fast = sum(closes[-self.fast_window:]) / self.fast_window
        slow = sum(closes[-self.slow_window:]) / self.slow_window
        if fast > slow:
            return 1
        if fast < slow:
            return -1
        return 0

    def target_position(self, signal: int, *, equity: float, price: float, position: float) -> float:
        if signal > 0:
            # keep an open long as it is: re-sizing every bar would trade on noise
            return position if position > 0 else self.position_fraction * equity / price
        if signal < 0:
            return 0.0
        return position


def build(params: dict[str, Any]) -> MaCrossover:
    fast = int(params.get("fast_window", 5))
    slow = int(params.get("slow_window", 20))
    fraction = float(params.get("position_fraction", 0.005))
    if not 1 <= fast < slow:
        raise UsageError(f"[strategy.ma_crossover]: fast_window ({fast}) must be at least 1 and below "
                         f"slow_window ({slow})")
    if not 0 < fraction <= 1:
        raise UsageError(f"[strategy.ma_crossover]: position_fraction ({fraction}) must be in (0, 1]")
    return MaCrossover(fast, slow, fraction)
