"""Synthetic run logs in the runtime's on-disk format, for tests, benchmarks and demos.

Writes ``live_runs/<run_id>/meta.json`` plus events as ``events.jsonl`` and/or a compacted
``events.parquet`` exactly as DESIGN 6 describes them, without needing the trading runtime.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIELDS = ("step", "ts_event", "ts_bar", "price", "open", "high", "low", "close", "volume", "signal", "position",
          "cash", "equity", "realized_pnl", "unrealized_pnl", "orders_generated", "orders_filled",
          "orders_rejected", "orders_blocked", "risk_allowed", "risk_reasons", "error")


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_events(n: int, *, start: datetime, every_s: float = 60.0, equity: Sequence[float] | None = None,
                first_step: int = 0, **overrides: Sequence[Any]) -> list[dict[str, Any]]:
    """``n`` events one ``every_s`` apart; ``equity`` and any field in ``overrides`` per event."""
    events = []
    for i in range(n):
        t = start + timedelta(seconds=every_s * i)
        eq = float(equity[i]) if equity is not None else 10_000.0
        ev: dict[str, Any] = {
            "step": first_step + i, "ts_event": iso(t), "ts_bar": iso(t.replace(second=0, microsecond=0)),
            "price": 60_000.0, "open": 60_000.0, "high": 60_010.0, "low": 59_990.0, "close": 60_000.0,
            "volume": 1.5, "signal": 0, "position": 0.0, "cash": eq, "equity": eq, "realized_pnl": 0.0,
            "unrealized_pnl": eq - 10_000.0, "orders_generated": 0, "orders_filled": 0, "orders_rejected": 0,
            "orders_blocked": 0, "risk_allowed": True, "risk_reasons": [], "error": None,
        }
        for key, values in overrides.items():
            ev[key] = values[i]
        events.append(ev)
    return events


def write_run(live_runs: Path, run_id: str, events: Sequence[dict[str, Any]], *, meta: dict[str, Any] | None = None,
              parquet_upto: int = 0, jsonl_from: int = 0) -> Path:
    """Write a run: events ``[:parquet_upto]`` into Parquet, events ``[jsonl_from:]`` into JSONL."""
    d = live_runs / run_id
    d.mkdir(parents=True, exist_ok=True)
    mode, _, rest = run_id.partition("_")
    base_meta = {"run_id": run_id, "mode": mode, "strategy": "ma_crossover", "symbol": "BTC/EUR",
                 "timeframe": "1m", "started_at": events[0]["ts_event"] if events else None, "ended_at": None,
                 "config_snapshot": {}, "notes": ""}
    (d / "meta.json").write_text(json.dumps({**base_meta, **(meta or {})}), encoding="utf-8")
    if parquet_upto:
        write_parquet(d / "events.parquet", events[:parquet_upto])
    tail = events[jsonl_from:]
    if tail or not parquet_upto:
        with open(d / "events.jsonl", "w", encoding="utf-8") as fh:
            for ev in tail:
                fh.write(json.dumps(ev) + "\n")
    return d


def write_parquet(path: Path, events: Sequence[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, list[Any]] = {k: [e.get(k) for e in events] for k in FIELDS}
    cols["ts_event"] = [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in cols["ts_event"]]
    cols["ts_bar"] = [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in cols["ts_bar"]]
    table = pa.table({k: v for k, v in cols.items() if k != "risk_reasons"})
    # list<string>, as the runtime's writer stores it (peaktrade.runtime.events.arrow_schema)
    reasons = pa.array([list(v or []) for v in cols["risk_reasons"]], type=pa.list_(pa.string()))
    pq.write_table(table.append_column("risk_reasons", reasons), path)


def write_parquet_columns(path: Path, n: int, *, start_ns: int, every_ns: int, equity: Any, rejected: Any = None,
                          blocked: Any = None, error_every: int = 0) -> None:
    """A large compacted event file written column-wise (benchmarks: millions of rows in seconds)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    ts = pa.array(start_ns + np.arange(n, dtype=np.int64) * every_ns, type=pa.timestamp("ns", tz="UTC"))
    zeros = np.zeros(n, dtype=np.int64)
    errors = [None] * n
    if error_every:
        for i in range(0, n, error_every):
            errors[i] = "ExchangeNetworkError: timeout"
    table = pa.table({
        "step": np.arange(n, dtype=np.int64), "ts_event": ts, "ts_bar": ts,
        "price": np.full(n, 60_000.0), "signal": zeros, "position": np.zeros(n), "cash": np.asarray(equity),
        "equity": np.asarray(equity, dtype=np.float64), "realized_pnl": np.zeros(n),
        "unrealized_pnl": np.asarray(equity, dtype=np.float64) - float(equity[0]),
        "orders_generated": zeros, "orders_filled": zeros,
        "orders_rejected": zeros if rejected is None else np.asarray(rejected),
        "orders_blocked": zeros if blocked is None else np.asarray(blocked),
        "error": pa.array(errors, type=pa.string()),
    })
    pq.write_table(table, path)
