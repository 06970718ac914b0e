"""Where a session's bars come from, and how they are paced.

Only closed candles count (the exchange's last candle is still forming). Three feeds:

* ``PacedFeed`` waits for each new candle to close. On the dummy exchange the market runs on a
  ``ScaledClock`` so that one candle of the timeframe closes every ``[exchange.dummy] bar_seconds`` of
  real time; against a real exchange, bars follow the timeframe.
* ``SteppedFeed`` (dummy exchange, unpaced profiles): the market clock starts ``steps`` candles in the
  past and is moved forward one candle per step, no waiting; orders fill at that moment's price.
* ``ReplayFeed`` (real exchange, unpaced profiles): the last candles are fetched once and replayed.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from peaktrade.clock import Clock, FakeClock

Candle = list  # [ts_ms, open, high, low, close, volume]


class ScaledClock:
    """A clock that runs ``speed`` times faster than ``base`` from the moment it is made."""

    def __init__(self, base: Clock, speed: float):
        self.base, self.speed = base, speed
        self._anchor = base.now()
        self._mono0 = base.monotonic()

    def now(self) -> datetime:
        return self._anchor + (self.base.now() - self._anchor) * self.speed

    def monotonic(self) -> float:
        return self._mono0 + (self.base.monotonic() - self._mono0) * self.speed

    def sleep(self, seconds: float) -> None:
        self.base.sleep(seconds / self.speed)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


class _Feed:
    def __init__(self, exchange: Any, symbol: str, timeframe: str, tf_ms: int, market_clock: Clock, warmup: int):
        self.exchange, self.symbol, self.timeframe, self.tf_ms = exchange, symbol, timeframe, tf_ms
        self.market_clock = market_clock
        self.warmup = warmup
        self.last_ts: int | None = None
        self._queue: deque[Candle] = deque()

    def _closed(self, limit: int) -> list[Candle]:
        now = _ms(self.market_clock.now())
        candles = self.exchange.fetch_ohlcv(self.symbol, self.timeframe, limit=limit)
        return [c for c in candles if c[0] + self.tf_ms <= now]

    def history(self) -> list[Candle]:
        """The warm-up candles (closed), oldest first; the next bar is the one after them."""
        closed = self._closed(self.warmup + 2)[-self.warmup:] if self.warmup else []
        if closed:
            self.last_ts = int(closed[-1][0])
        return closed

    def _take_new(self, limit: int) -> None:
        for c in self._closed(limit):
            if self.last_ts is None or c[0] > self.last_ts:
                self._queue.append(c)
                self.last_ts = int(c[0])


class PacedFeed(_Feed):
    def __init__(self, exchange: Any, symbol: str, timeframe: str, tf_ms: int, market_clock: Clock,
                 wait_clock: Clock, poll_s: float, warmup: int):
        super().__init__(exchange, symbol, timeframe, tf_ms, market_clock, warmup)
        self.wait_clock, self.poll_s = wait_clock, poll_s

    def next_bar(self, stop: threading.Event) -> Candle | None:
        while not self._queue:
            if stop.is_set():
                return None
            self._take_new(self.warmup + 5)
            if not self._queue:
                self.wait_clock.sleep(self.poll_s)
        return self._queue.popleft()


class SteppedFeed(_Feed):
    def __init__(self, exchange: Any, symbol: str, timeframe: str, tf_ms: int, market_clock: FakeClock,
                 warmup: int):
        super().__init__(exchange, symbol, timeframe, tf_ms, market_clock, warmup)
        self._advanced = False

    def next_bar(self, stop: threading.Event) -> Candle | None:
        if stop.is_set():
            return None
        if not self._queue:
            if not self._advanced:  # after a failed read, retry the same moment: time did not pass
                self.market_clock.advance(self.tf_ms / 1000)  # type: ignore[attr-defined]
                self._advanced = True
            self._take_new(self.warmup + 5)
            self._advanced = False
        return self._queue.popleft() if self._queue else None


class ReplayFeed(_Feed):
    def __init__(self, exchange: Any, symbol: str, timeframe: str, tf_ms: int, market_clock: Clock,
                 warmup: int, steps: int):
        super().__init__(exchange, symbol, timeframe, tf_ms, market_clock, warmup)
        closed = self._closed(warmup + max(steps, 1) + 1)
        self._history, rest = closed[: max(len(closed) - steps, 0)][-warmup:], closed[-steps:] if steps else []
        self._queue.extend(rest)

    def history(self) -> list[Candle]:
        if self._history:
            self.last_ts = int(self._history[-1][0])
        return self._history

    def next_bar(self, stop: threading.Event) -> Candle | None:
        if stop.is_set() or not self._queue:
            return None
        bar = self._queue.popleft()
        self.last_ts = int(bar[0])
        return bar


def stepped_market_clock(now: datetime, tf_ms: int, steps: int) -> FakeClock:
    """A market clock ``steps`` candles (at least one) before ``now``, aligned to the timeframe."""
    aligned = (_ms(now) // tf_ms) * tf_ms - max(steps, 1) * tf_ms
    return FakeClock(datetime.fromtimestamp(aligned / 1000, UTC) + timedelta(milliseconds=1))
