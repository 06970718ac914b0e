"""Runbook 10 as functions: find gaps (cached candles or a run's bars) and backfill ``data/``."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from peaktrade.analysis.ohlcv import cache_path, fetch_range, find_gaps, read_cached, tf_ms, write_cached
from peaktrade.clock import SYSTEM_CLOCK
from peaktrade.errors import CheckFailed, UsageError

if TYPE_CHECKING:
    from peaktrade.clock import Clock
    from peaktrade.root import Root


def _iso(ms: int | None) -> str | None:
    from peaktrade.monitor.columns import ns_to_iso

    return None if ms is None else ns_to_iso(int(ms) * 1_000_000)


def gap_report(root: Root, *, symbol: str | None = None, timeframe: str | None = None,
               run_id: str | None = None) -> dict[str, Any]:
    """Gaps in the run's bar events (``run_id``) or in the cached candles of ``symbol``/``timeframe``."""
    from peaktrade.config import load_config

    config = load_config(root)
    gap_events = 0
    if run_id:
        from peaktrade.analysis.ohlcv import run_bar_times
        from peaktrade.monitor.runs import read_meta, run_dir

        d = run_dir(root, run_id)
        meta = read_meta(d)
        symbol = symbol or meta.get("symbol")
        timeframe = timeframe or meta.get("timeframe")
        if (symbol, timeframe) != (meta.get("symbol"), meta.get("timeframe")):
            raise UsageError(f"run {run_id} trades {meta.get('symbol')} {meta.get('timeframe')}, "
                             f"not {symbol} {timeframe}")
        times, gap_events = run_bar_times(d)
        source = f"run {run_id}"
    else:
        symbol = symbol or config.get("session.symbol", "BTC/EUR")
        timeframe = timeframe or config.get("session.timeframe", "1m")
        path = cache_path(root, config, symbol, timeframe)
        if not path.is_file():
            raise UsageError(f"no cached candles for {symbol} {timeframe}: {root.rel(path)} does not exist "
                             f"(fill it with 'peaktrade data backfill --symbol {symbol} --timeframe {timeframe}')")
        times = [int(c[0]) for c in read_cached(path)]
        source = root.rel(path)
    gaps = find_gaps(times, tf_ms(timeframe))
    return {"source": source, "symbol": symbol, "timeframe": timeframe, "candles": len(times),
            "first": _iso(min(times)) if times else None, "last": _iso(max(times)) if times else None,
            "gaps": [g.to_dict() for g in gaps], "missing": sum(g.missing for g in gaps), "gap_events": gap_events}


def backfill(root: Root, *, symbol: str | None = None, timeframe: str | None = None, start: str | None = None,
             end: str | None = None, clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    """Fetch closed candles in [start, end] from the configured exchange into the ``data/`` cache."""
    from peaktrade.analysis.backtest import parse_time
    from peaktrade.config import load_config
    from peaktrade.exchange.base import ExchangeError
    from peaktrade.exchange.factory import make_exchange

    config = load_config(root)
    symbol = symbol or config.get("session.symbol", "BTC/EUR")
    timeframe = timeframe or config.get("session.timeframe", "1m")
    path = cache_path(root, config, symbol, timeframe)
    step = tf_ms(timeframe)
    now = clock.now()
    end_dt = parse_time(end, "--end") if end else now
    start_dt = parse_time(start, "--start") if start else end_dt - timedelta(hours=24)
    if start_dt > end_dt:
        raise UsageError(f"--start {start_dt.isoformat()} is after --end {end_dt.isoformat()}")
    start_ms = -(-int(start_dt.timestamp() * 1000) // step) * step  # first candle opening at/after start
    # only candles that have closed by now: a forming candle would be cached with a wrong close
    last_closed = (int(now.timestamp() * 1000) // step - 1) * step
    end_ms = min(int(end_dt.timestamp() * 1000) // step * step, last_closed)
    if (end_ms - start_ms) // step > 500_000:
        raise UsageError("backfill window is more than 500,000 candles: split it")
    try:
        exchange = make_exchange(config, mode="paper", clock=clock)
        candles = fetch_range(exchange, symbol, timeframe, start_ms, end_ms) if end_ms >= start_ms else []
    except ExchangeError as exc:
        raise CheckFailed(f"backfill of {symbol} {timeframe} failed: {exc.message}") from None
    added = write_cached(path, candles)
    window = [int(c[0]) for c in read_cached(path) if start_ms <= c[0] <= end_ms]
    edges = [start_ms - step, *window, end_ms + step] if end_ms >= start_ms else window
    # holes at the window's edges count too: the cache must cover [start, end]
    gaps = find_gaps(edges, step)
    return {"path": root.rel(path), "symbol": symbol, "timeframe": timeframe, "start": _iso(start_ms),
            "end": _iso(end_ms), "fetched": len(candles), "added": added, "candles": len(window),
            "gaps": [g.to_dict() for g in gaps]}
