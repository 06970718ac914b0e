"""A backtest over the same deterministic price source as the runs (runbook 9, step 3).

It replays the session's own bar logic — the runtime's strategy, its ``Book`` and its paper
``PaperExecutor`` (fee and slippage from ``[session]``) — over closed candles, so a shadow run and
the backtest of its window agree exactly when nothing went wrong. The risk gate is deliberately
not applied: the backtest is the strategy's expectation, and orders the run had blocked are
reported by the divergence analysis as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from peaktrade.analysis.ohlcv import cache_path, fetch_range, find_gaps, read_cached, source_name, tf_ms
from peaktrade.errors import CheckFailed, UsageError

if TYPE_CHECKING:
    from peaktrade.config import Config
    from peaktrade.root import Root

_MIN_NOTIONAL = 1e-6  # the session's threshold: below it a target change is float noise


@dataclass
class BacktestResult:
    strategy: str
    symbol: str
    timeframe: str
    start: str
    end: str
    source: str
    starting_cash: float
    fee_rate: float
    slippage_bps: float
    bars: int = 0
    final_equity: float = 0.0
    fees: float = 0.0
    max_drawdown: float = 0.0
    trades: list[dict[str, Any]] = field(default_factory=list)
    curve: list[dict[str, Any]] = field(default_factory=list)  # per bar: ts_bar, close, signal, equity

    @property
    def pnl(self) -> float:
        return self.final_equity - self.starting_cash

    def to_dict(self, *, curve: bool = False) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in ("strategy", "symbol", "timeframe", "start", "end", "source",
                                            "starting_cash", "fee_rate", "slippage_bps", "bars", "final_equity",
                                            "fees", "max_drawdown")}
        d |= {"pnl": self.pnl, "return_pct": self.pnl / self.starting_cash * 100, "trades": self.trades}
        if curve:
            d["curve"] = self.curve
        return d


def parse_time(text: str, what: str) -> datetime:
    """ISO-8601 (date or date-time; naive = UTC)."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise UsageError(f"{what} {text!r} is not an ISO-8601 date or time (e.g. 2025-12-07T12:00:00Z)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def load_candles(root: Root, config: Config, symbol: str, timeframe: str, first_ms: int,
                 end_ms: int) -> tuple[list[list[float]], str]:
    """Closed candles from ``first_ms`` to ``end_ms``: from ``data/`` when the cache covers the range
    without gaps, else from the configured exchange (the dummy one is offline and deterministic)."""
    step = tf_ms(timeframe)
    path = cache_path(root, config, symbol, timeframe)
    cached = [c for c in read_cached(path) if first_ms <= c[0] <= end_ms]
    if cached and cached[0][0] <= first_ms + step and cached[-1][0] >= end_ms - step \
            and not find_gaps([c[0] for c in cached], step):
        return cached, f"cache:{root.rel(path)}"
    from peaktrade.clock import SYSTEM_CLOCK, FakeClock
    from peaktrade.exchange.base import ExchangeError
    from peaktrade.exchange.factory import make_exchange

    # the dummy exchange's "now" bounds its candles: put it just after the last candle closed
    clock = FakeClock(datetime.fromtimestamp((end_ms + 2 * step) / 1000, UTC)) \
        if config.exchange_type == "dummy" else SYSTEM_CLOCK
    try:
        exchange = make_exchange(config, mode="paper", clock=clock)
        candles = fetch_range(exchange, symbol, timeframe, first_ms, end_ms)
    except ExchangeError as exc:
        raise CheckFailed(f"cannot load {symbol} {timeframe} candles: {exc.message}") from None
    return candles, f"exchange:{source_name(config)}"


def run_backtest(root: Root, config: Config, *, strategy: str, symbol: str, timeframe: str, start: datetime,
                 end: datetime, candles: list[list[float]] | None = None) -> BacktestResult:
    from peaktrade.runtime.book import Book
    from peaktrade.runtime.execution import PaperExecutor
    from peaktrade.runtime.strategies import get_strategy

    if end < start:
        raise UsageError(f"--end {end.isoformat()} is before --start {start.isoformat()}")
    strat = get_strategy(strategy, config)
    step = tf_ms(timeframe)
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    if (end_ms - start_ms) // step > 1_000_000:
        raise UsageError(f"window {start.isoformat()} .. {end.isoformat()} is more than 1,000,000 {timeframe} bars")
    warm_ms = start_ms - max(strat.warmup_bars, 1) * step
    source = "given"
    if candles is None:
        candles, source = load_candles(root, config, symbol, timeframe, warm_ms, end_ms)
    fee_rate = float(config.get("session.fee_rate", 0.0026))
    slip = float(config.get("session.slippage_bps", 5.0))
    res = BacktestResult(strategy, symbol, timeframe, _iso_ms(start_ms), _iso_ms(end_ms), source,
                         float(config.get("session.starting_cash", 10_000.0)), fee_rate, slip)
    book, executor = Book(res.starting_cash), PaperExecutor(fee_rate, slip)
    closes = [float(c[4]) for c in candles if c[0] < start_ms]
    peak = res.starting_cash
    for c in candles:
        if not start_ms <= c[0] <= end_ms:
            continue
        close = float(c[4])
        closes.append(close)
        signal = strat.signal(closes)
        equity = book.equity(close)
        target = strat.target_position(signal, equity=equity, price=close, position=book.position)
        delta = target - book.position
        if abs(delta) * close > _MIN_NOTIONAL:
            side = "buy" if delta > 0 else "sell"
            fill = executor.execute(side, abs(delta), close).fill
            book.apply(fill)
            res.fees += fill.fee
            res.trades.append({"ts_bar": _iso_ms(int(c[0])), "side": side, "quantity": fill.quantity,
                               "signal_price": close, "fill_price": fill.price, "fee": fill.fee})
        equity = book.equity(close)
        peak = max(peak, equity)
        res.max_drawdown = min(res.max_drawdown, equity / peak - 1.0)
        res.curve.append({"ts_bar": _iso_ms(int(c[0])), "close": close, "signal": signal, "equity": equity})
        res.bars += 1
    res.final_equity = book.equity(closes[-1]) if closes and res.bars else res.starting_cash
    return res

