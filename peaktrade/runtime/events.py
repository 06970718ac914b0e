"""The event record of a run log (DESIGN 6) and its Arrow schema.

One schema for both files: ``events.jsonl`` (one JSON object per line, ``ts_*`` as ISO-8601 UTC
strings) and ``events.parquet`` (the same columns, ``ts_*`` as UTC timestamps).
"""

from __future__ import annotations

from typing import Any

# DESIGN 6, in this order, plus ``kind`` ("bar" | "gap" | "error"); see docs/event-schema.md.
EVENT_FIELDS: tuple[str, ...] = (
    "step", "ts_event", "ts_bar", "price", "open", "high", "low", "close", "volume",
    "signal", "position", "cash", "equity", "realized_pnl", "unrealized_pnl",
    "orders_generated", "orders_filled", "orders_rejected", "orders_blocked",
    "risk_allowed", "risk_reasons", "error", "kind",
)
TIME_FIELDS = ("ts_event", "ts_bar")
FLOAT_FIELDS = ("price", "open", "high", "low", "close", "volume", "position", "cash", "equity",
                "realized_pnl", "unrealized_pnl")
INT_FIELDS = ("step", "signal", "orders_generated", "orders_filled", "orders_rejected", "orders_blocked")
KINDS = ("bar", "gap", "error")

_schema = None


def arrow_schema():
    """The pyarrow schema of ``events.parquet`` (pyarrow imported lazily)."""
    global _schema
    if _schema is None:
        import pyarrow as pa

        ts = pa.timestamp("us", tz="UTC")
        types: dict[str, Any] = {f: pa.float64() for f in FLOAT_FIELDS}
        types.update({f: pa.int64() for f in INT_FIELDS})
        types.update({f: ts for f in TIME_FIELDS})
        types.update(risk_allowed=pa.bool_(), risk_reasons=pa.list_(pa.string()), error=pa.string(),
                     kind=pa.string())
        _schema = pa.schema([(f, types[f]) for f in EVENT_FIELDS])
    return _schema


def table_from_jsonl(data: bytes, *, use_threads: bool = True):
    """Parse complete JSONL lines into an Arrow table with the event schema (C++ parser, fast)."""
    import io

    import pyarrow.json as pj

    opts = pj.ParseOptions(explicit_schema=arrow_schema(), unexpected_field_behavior="ignore")
    return pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(use_threads=use_threads), parse_options=opts)


def table_from_records(records: list[dict[str, Any]]):
    """An Arrow table with the event schema from JSONL records (``ts_*`` still ISO strings)."""
    from datetime import datetime

    import pyarrow as pa

    rows = []
    for rec in records:
        row = {f: rec.get(f) for f in EVENT_FIELDS}
        for f in TIME_FIELDS:
            if isinstance(row[f], str):
                try:
                    row[f] = datetime.fromisoformat(row[f].replace("Z", "+00:00"))
                except ValueError:
                    row[f] = None
        rows.append(row)
    try:
        return pa.Table.from_pylist(rows, schema=arrow_schema())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a field of the wrong type: drop the bad rows only
        good = []
        for row in rows:
            try:
                pa.Table.from_pylist([row], schema=arrow_schema())
                good.append(row)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                continue
        return pa.Table.from_pylist(good, schema=arrow_schema())


def parse_jsonl(data: bytes, after_step: int = 0, *, use_threads: bool = True):
    """Complete JSONL lines -> event table with steps above ``after_step``; damaged lines are skipped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        table = table_from_jsonl(data, use_threads=use_threads)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        table = table_from_records(_records(data))
    return table.filter(pc.greater(table.column("step"), after_step)) if after_step else table


def _records(data: bytes) -> list[dict[str, Any]]:
    import orjson

    out = []
    for line in data.splitlines():
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("step"), int):
            out.append(rec)
    return out


def complete_lines(data: bytes) -> bytes:
    """Drop a torn last line (no newline yet: the writer was killed mid-line)."""
    cut = data.rfind(b"\n")
    return data[: cut + 1] if cut >= 0 else b""

