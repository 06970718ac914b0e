"""Cached OHLCV under ``data/`` and gap detection (runbook 10).

The cache is one CSV per exchange, market and timeframe:
``data/<exchange>/<BASE>-<QUOTE>_<timeframe>.csv`` with the header ``ts_ms,open,high,low,close,volume``
(``ts_ms`` = candle open time, ms since the epoch, UTC). ``<exchange>`` is ``dummy`` or the ccxt id,
so candles of different sources never mix. Files are rewritten atomically, sorted, one row per candle.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError

if TYPE_CHECKING:
    from peaktrade.config import Config
    from peaktrade.root import Root

HEADER = ("ts_ms", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Gap:
    after_ms: int  # the last candle before the gap
    before_ms: int  # the first candle after it
    missing: int  # candles missing in between

    def to_dict(self) -> dict[str, Any]:
        from peaktrade.monitor.columns import ns_to_iso

        return {**asdict(self), "from": ns_to_iso(self.after_ms * 1_000_000),
                "to": ns_to_iso(self.before_ms * 1_000_000)}


def tf_ms(timeframe: str) -> int:
    from peaktrade.exchange.base import timeframe_ms

    try:
        return timeframe_ms(timeframe)
    except Exception as exc:  # noqa: BLE001 - the exchange's error type is an API error; here it is usage
        raise UsageError(str(getattr(exc, "message", exc))) from None


def source_name(config: Config) -> str:
    return "dummy" if config.exchange_type == "dummy" else str(config.get("exchange.ccxt_id", config.exchange_type))


def cache_path(root: Root, config: Config, symbol: str, timeframe: str) -> Path:
    if "/" not in symbol or not all(p.isalnum() for p in symbol.split("/")):
        raise UsageError(f"--symbol {symbol!r} is not a market like BTC/EUR")
    tf_ms(timeframe)
    return root.data_dir / source_name(config) / f"{symbol.replace('/', '-')}_{timeframe}.csv"


def read_cached(path: Path) -> list[list[float]]:
    """Candles from a cache file, sorted by time, one per timestamp; a missing file is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows: dict[int, list[float]] = {}
    reader = csv.reader(io.StringIO(text))
    for lineno, row in enumerate(reader, 1):
        if lineno == 1 and row and row[0] == "ts_ms":
            continue
        try:
            ts = int(row[0])
            rows[ts] = [ts, *(float(x) for x in row[1:6])]
        except (ValueError, IndexError):
            raise UsageError(f"{path}:{lineno}: not a candle row: {','.join(row)[:60]!r}") from None
    return [rows[k] for k in sorted(rows)]


def write_cached(path: Path, candles: list[list[float]]) -> int:
    """Merge ``candles`` into the cache file; returns how many timestamps were new."""
    from peaktrade.fsutil import atomic_write_text

    existing = {int(c[0]): c for c in read_cached(path)}
    before = len(existing)
    for c in candles:
        existing[int(c[0])] = [int(c[0]), *(float(x) for x in c[1:6])]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for ts in sorted(existing):
        c = existing[ts]
        w.writerow([ts, *(repr(float(x)) for x in c[1:6])])
    atomic_write_text(path, out.getvalue())
    return len(existing) - before


def find_gaps(ts_ms: Any, step_ms: int) -> list[Gap]:
    """Holes in a sorted series of candle times (vectorised): consecutive times more than one step apart."""
    import numpy as np

    ts = np.unique(np.asarray(ts_ms, dtype=np.int64))
    if ts.size < 2:
        return []
    diff = np.diff(ts)
    idx = np.flatnonzero(diff > step_ms)
    return [Gap(int(ts[i]), int(ts[i + 1]), int(diff[i] // step_ms - 1)) for i in idx]


def run_bar_times(run_dir: Path) -> tuple[list[int], int]:
    """Bar times (ms) of a run's bar events, and how many explicit gap events the session logged."""
    from peaktrade.monitor.columns import parse_ts_ns
    from peaktrade.runtime.runlog import read_events

    bars, gap_events = [], 0
    for e in read_events(run_dir):
        if e.get("kind") == "gap":
            gap_events += 1
            continue
        ns = parse_ts_ns(e.get("ts_bar"))
        if ns is not None:
            bars.append(ns // 1_000_000)
    return bars, gap_events


def fetch_range(exchange: Any, symbol: str, timeframe: str, start_ms: int, end_ms: int,
                page: int = 500) -> list[list[float]]:
    """Candles with open time in [start_ms, end_ms], paged through ``fetch_ohlcv(since=…)``.

    An unknown market is bad input (exit 2), not an exchange failure."""
    step = tf_ms(timeframe)
    markets = exchange.load_markets()
    if markets and symbol not in markets:
        known = ", ".join(sorted(markets)[:10])
        raise UsageError(f"unknown market {symbol!r} on {getattr(exchange, 'name', 'the exchange')} "
                         f"(e.g. {known})")
    out: dict[int, list[float]] = {}
    cursor = start_ms
    while cursor <= end_ms:
        batch = exchange.fetch_ohlcv(symbol, timeframe, since=cursor, limit=page)
        if not batch:
            break
        for c in batch:
            if start_ms <= int(c[0]) <= end_ms:
                out[int(c[0])] = list(c[:6])
        last = int(batch[-1][0])
        if last < cursor:
            break
        cursor = last + step
    return [out[k] for k in sorted(out)]
