"""A trading session: one strategy on one symbol and timeframe, bar by bar (DESIGN 6).

Per bar: data-gap check, signal, sizing, pre-trade risk gate, execution, one event with the book's
real position, cash, equity and PnL. A stop request (SIGTERM) is honoured between bars, so the
current step always finishes and its event is written.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peaktrade.clock import Clock
from peaktrade.runtime.book import Book
from peaktrade.runtime.routing import SessionOrders
from peaktrade.runtime.strategies import Strategy
from peaktrade.runtime.writer import RunLogWriter

_MIN_NOTIONAL = 1e-6  # below this a target change is float noise, not an order
MAX_READ_FAILURES = 10  # consecutive failed market-data reads (after the adapter's own retries) halt the session


@dataclass
class SessionResult:
    status: str  # completed | stopped | failed
    steps: int
    error: str | None = None


class Session:
    def __init__(self, *, run_id: str, symbol: str, timeframe: str, tf_ms: int, steps: int, feed: Any,
                 strategy: Strategy, orders: SessionOrders, book: Book, writer: RunLogWriter,
                 clock: Clock, log: logging.Logger, stop: threading.Event):
        self.run_id, self.symbol, self.timeframe, self.tf_ms = run_id, symbol, timeframe, tf_ms
        self.steps, self.feed, self.strategy, self.orders = steps, feed, strategy, orders
        self.book, self.writer = book, writer
        self.clock, self.log, self.stop = clock, log, stop
        self.closes: list[float] = []
        self.last_signal = 0
        self.bars = 0

    def run(self) -> SessionResult:
        history = self.feed.history()
        self.closes = [float(c[4]) for c in history]
        length = f"{self.steps} steps" if self.steps else "until stopped"
        self.log.info("Session %s started: %s %s %s, %d warm-up bars, %s", self.run_id, self.strategy.name,
                      self.symbol, self.timeframe, len(history), length)
        prev_ts = int(history[-1][0]) if history else None
        failures = 0
        while not self.stop.is_set() and (self.steps == 0 or self.bars < self.steps):
            try:
                bar = self.feed.next_bar(self.stop)
            except Exception as exc:  # noqa: BLE001 - sorted into the runbook-7 taxonomy below
                failures += 1
                fatal = self._exchange_error(exc, failures)
                if fatal:
                    return SessionResult("failed", self.bars, fatal)
                continue
            failures = 0
            if bar is None:
                break
            if prev_ts is not None and bar[0] - prev_ts > self.tf_ms:
                self._gap(prev_ts, int(bar[0]))
            prev_ts = int(bar[0])
            fatal = self.on_bar(bar)
            self.bars += 1
            if fatal:
                return SessionResult("failed", self.bars, fatal)
        if self.stop.is_set():
            return SessionResult("stopped", self.bars)
        return SessionResult("completed", self.bars)

    def _exchange_error(self, exc: Exception, failures: int) -> str | None:
        """Log and record a failed market-data read; back off; the error text if the session must halt."""
        from peaktrade.exchange.base import ExchangeAuthenticationError, ExchangeError

        if not isinstance(exc, ExchangeError):
            raise exc
        msg = f"{type(exc).__name__}: {exc}"
        mark = self.closes[-1] if self.closes else None
        self.writer.append({"kind": "error", "ts_event": self.clock.now(), "error": msg, **self._book_fields(mark)})
        if isinstance(exc, ExchangeAuthenticationError):
            self.log.critical("[EXCHANGE] %s: session halted (check the API key; runbook 7)", msg)
            return msg
        if failures >= MAX_READ_FAILURES:
            self.log.error("[EXCHANGE] %s: %d failed reads in a row, session halted", msg, failures)
            return f"{msg} ({failures} failed reads in a row)"
        delay = min(2.0 ** (failures - 1), 60.0)
        self.log.error("[EXCHANGE] %s: retrying in %.0f s (%d/%d)", msg, delay, failures, MAX_READ_FAILURES)
        self.clock.sleep(delay)
        return None

    def _gap(self, prev_ts: int, ts: int) -> None:
        missing = (ts - prev_ts) // self.tf_ms - 1
        msg = (f"[DATA] Gap detected: {self.symbol} {self.timeframe}: {missing} bar(s) missing between "
               f"{_iso(prev_ts)} and {_iso(ts)}")
        self.log.warning(msg)
        mark = self.closes[-1] if self.closes else None
        self.writer.append({"kind": "gap", "ts_event": self.clock.now(), "ts_bar": _iso(prev_ts + self.tf_ms),
                            "error": msg[len("[DATA] "):], **self._book_fields(mark)})

    def _book_fields(self, mark: float | None) -> dict[str, Any]:
        b = self.book
        if mark is None:
            return {"position": b.position, "cash": b.cash, "equity": b.cash, "realized_pnl": b.realized_pnl,
                    "unrealized_pnl": 0.0}
        return {"position": b.position, "cash": b.cash, "equity": b.equity(mark), "realized_pnl": b.realized_pnl,
                "unrealized_pnl": b.unrealized(mark)}

    def _fill(self, fill) -> None:  # noqa: ANN001 - runtime.book.Fill
        self.book.apply(fill)
        self.log.info("Filled: %s %.8f %s at %.2f (fee %.4f)", fill.side, fill.quantity, self.symbol, fill.price,
                      fill.fee)

    def on_bar(self, bar: list) -> str | None:
        """Process one closed candle; returns an error text if the session must halt at once."""
        ts, o, h, low, c, v = bar[:6]
        close = float(c)
        self.closes.append(close)
        if len(self.closes) > 4 * max(self.strategy.warmup_bars, 1):
            del self.closes[: -2 * self.strategy.warmup_bars]
        signal = self.strategy.signal(self.closes)
        self.orders.observe(close)
        counts = dict(orders_generated=0, orders_filled=0, orders_rejected=0, orders_blocked=0)
        settled = self.orders.settle(close)  # partial fills and late landings of earlier bars, dead-man timer
        for fill in settled.fills:
            self._fill(fill)
            counts["orders_filled"] += 1
        for note in settled.notes:
            self.log.info("%s", note)
        if settled.fatal or settled.drift:
            self.writer.append({"kind": "error" if settled.fatal else "drift", "ts_event": self.clock.now(),
                                "error": settled.fatal or "; ".join(settled.drift), **self._book_fields(close)})
        if settled.fatal:
            return settled.fatal
        equity = self.book.equity(close)
        target = self.strategy.target_position(signal, equity=equity, price=close, position=self.book.position)
        delta = target - self.book.position
        allowed, reasons, error, fatal = None, [], None, None
        if abs(delta) * close > _MIN_NOTIONAL:
            side = "buy" if delta > 0 else "sell"
            counts["orders_generated"] = 1
            self.log.info("Signal %+d: %s %.8f %s at ~%.2f", signal, side, abs(delta), self.symbol, close)
            placed = self.orders.place(side, abs(delta), close, self.writer.step + 1)
            allowed, reasons = placed.allowed, placed.reasons
            if not placed.allowed:
                counts["orders_blocked"] = 1
            for fill in placed.fills:
                self._fill(fill)
                counts["orders_filled"] += 1
            if placed.rejected:
                counts["orders_rejected"] = 1
            if placed.error:
                error = placed.error
                self.log.error("Order failed: %s", placed.error)
            if placed.fatal:
                fatal = placed.error
        if counts["orders_filled"]:  # a fill can reach the daily loss limit itself: halt now, not next bar
            self.orders.observe(close)
        self.last_signal = signal
        self.writer.append({
            "ts_event": self.clock.now(), "ts_bar": _iso(int(ts)), "price": close, "open": float(o),
            "high": float(h), "low": float(low), "close": close, "volume": float(v), "signal": signal,
            **self._book_fields(close), **counts, "risk_allowed": allowed, "risk_reasons": reasons,
            "error": error,
        })
        return fatal


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
