"""The session's book for one symbol: cash, position, average entry, realized and unrealized PnL.

Invariant (checked by a replay test): ``equity == starting_cash + realized_pnl + unrealized_pnl``,
with fees charged to realized PnL at the moment they are paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fill:
    side: str  # "buy" | "sell"
    quantity: float
    price: float
    fee: float


@dataclass
class Book:
    starting_cash: float
    cash: float = field(init=False)
    position: float = 0.0
    avg_price: float = 0.0
    realized_pnl: float = 0.0
    fills: list[Fill] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cash = self.starting_cash

    def apply(self, fill: Fill) -> None:
        qty = fill.quantity if fill.side == "buy" else -fill.quantity
        self.cash -= qty * fill.price + fill.fee
        self.realized_pnl -= fill.fee
        if self.position == 0 or (self.position > 0) == (qty > 0):
            total = self.position + qty
            self.avg_price = (self.avg_price * abs(self.position) + fill.price * abs(qty)) / abs(total)
            self.position = total
        else:
            closed = min(abs(qty), abs(self.position))
            direction = 1.0 if self.position > 0 else -1.0
            self.realized_pnl += closed * (fill.price - self.avg_price) * direction
            self.position += qty
            if abs(self.position) < 1e-12:
                self.position, self.avg_price = 0.0, 0.0
            elif (self.position > 0) != (direction > 0):  # flipped through zero: the rest opens anew
                self.avg_price = fill.price
        self.fills.append(fill)

    def unrealized(self, mark: float) -> float:
        return self.position * (mark - self.avg_price) if self.position else 0.0

    def equity(self, mark: float) -> float:
        return self.cash + self.position * mark
