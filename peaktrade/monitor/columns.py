"""Read only the event columns a view or rule needs, fast, from a run directory.

A run's events live in ``events.parquet`` (compacted) plus ``events.jsonl`` (append-only; may
still hold events already compacted). The runtime's ``read_events_frame`` merges both with
pandas, which is right for analysis but far too slow for ``alerts run-rules`` on a million
events or ``monitor overview`` on a thousand runs. Here pyarrow reads only the requested
Parquet columns, and the JSONL file is read *backwards* only as far as the events that are
newer than the last compacted step.

Timestamps come back as int64 nanoseconds since the epoch (UTC), numbers as float64 (NaN when
absent), and the pseudo-columns ``has_error`` as bool (the event's ``error`` is non-empty) and
``held_back`` as bool (the event's order was held back by an engaged kill switch: a ``risk_reasons``
entry ``kill switch KILLED|RECOVERING``, which the runtime's gate writes; not an error of the run).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TS_COLUMNS = ("ts_event", "ts_bar")
PARQUET = "events.parquet"
JSONL = "events.jsonl"
_CHUNK = 1 << 20
# what the event views show (risk_reasons and the OHLC columns are left out of the Parquet read)
SHOWN = ("step", "ts_event", "ts_bar", "kind", "price", "close", "signal", "position", "cash", "equity",
         "realized_pnl", "unrealized_pnl", "orders_generated", "orders_filled", "orders_rejected", "orders_blocked",
         "risk_allowed", "error")


def parse_ts_ns(value: Any) -> int | None:
    """An ISO-8601 string (``Z`` or offset; naive means UTC) or datetime -> epoch ns."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def ns_to_iso(ns: int | None) -> str | None:
    if ns is None:
        return None
    dt = datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).replace(microsecond=(ns % 1_000_000_000) // 1000)
    return dt.isoformat().replace("+00:00", "Z")


def _float(value: Any) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f


_PSEUDO = {"has_error": "error", "held_back": "risk_reasons"}
HELD_BACK = ("kill switch engaged", "kill switch recovering", "kill switch KILLED", "kill switch RECOVERING")


def _held_back(reasons: Any) -> bool:
    if isinstance(reasons, str):  # an older or hand-written file may hold the list as JSON text
        try:
            reasons = json.loads(reasons)
        except ValueError:
            return False
    return isinstance(reasons, (list, tuple)) and any(str(r) in HELD_BACK for r in reasons)


def _held_back_column(col: Any) -> Any:
    """True where a list<string> column holds a kill-switch reason, from Arrow compute (no per-row Python)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(col)
    out = np.zeros(n, dtype=bool)
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
        return np.array([_held_back(v) for v in col.to_pylist()], dtype=bool)
    base = 0
    for chunk in col.chunks:
        flat = pc.list_flatten(chunk)
        if len(flat):
            parents = np.asarray(pc.list_parent_indices(chunk))
            hit = np.asarray(pc.fill_null(pc.is_in(flat, value_set=pa.array(HELD_BACK)), False))
            out[base + parents[hit]] = True
        base += len(chunk)
    return out


def _has_error(value: Any) -> bool:
    return value not in (None, "", [], {}) and not (isinstance(value, float) and math.isnan(value))


def iter_jsonl_backwards(path: Path, *, start: int = 0) -> Iterator[dict[str, Any]]:
    """Complete, parseable event lines of ``path`` from the last to the one at byte ``start``."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    with fh:
        pos = fh.seek(0, os.SEEK_END)
        rest = b""
        first = True
        while pos > start:
            size = min(_CHUNK, pos - start)
            pos -= size
            fh.seek(pos)
            buf = fh.read(size) + rest
            lines = buf.split(b"\n")
            rest = lines[0] if pos > start else b""
            body = lines[1:] if pos > start else lines
            if first:
                # a line without its newline is still being written: not an event yet
                body = body[:-1]
                first = False
            for raw in reversed(body):
                event = _parse_line(raw)
                if event is not None:
                    yield event


def read_jsonl_from(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete events appended after byte ``offset``, and the offset after the last of them."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    events = [e for e in (_parse_line(raw) for raw in data[:end].split(b"\n")) if e is not None]
    return events, offset + end + 1


try:  # the runtime's writer uses orjson too; 3-5x faster than json for these small objects
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        event = _loads(raw)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None  # a torn line (crash mid-write) is not an event
    return event if isinstance(event, dict) else None


def _parquet_columns(path: Path, columns: Sequence[str]) -> dict[str, Any]:
    # ParquetFile.read, not pq.read_table: the latter pulls in pyarrow.dataset and pandas (~0.2 s)
    import numpy as np
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    available = set(pf.schema_arrow.names)
    wanted = {_PSEUDO.get(c, c) for c in columns} | {"step"}
    table = pf.read(columns=sorted(wanted & available), use_threads=False)  # faster for small files
    n = table.num_rows
    out: dict[str, Any] = {}
    for name in {*columns, "step"}:
        src = _PSEUDO.get(name, name)
        if src not in available:
            out[name] = _missing(name, n)
            continue
        col = table.column(src)
        if name == "has_error":
            out[name] = _non_empty(col)
        elif name == "held_back":
            out[name] = _held_back_column(col)
        elif name in TS_COLUMNS:
            out[name] = _ts_array(col)
        elif name == "step":
            out[name] = np.nan_to_num(_numeric(col)).astype(np.int64)
        else:
            out[name] = _numeric(col)
    return out


def _numeric(col: Any) -> Any:
    """A numeric/bool column as float64 with NaN for nulls, read from the Arrow buffers.

    pyarrow's own ``to_numpy`` imports pandas (~0.3 s of a 0.5 s budget), so it is avoided.
    """
    import numpy as np
    import pyarrow as pa

    parts = []
    for c in col.chunks:
        t = c.type
        bufs = c.buffers()
        if pa.types.is_boolean(t):
            bits = np.unpackbits(np.frombuffer(bufs[1], dtype=np.uint8), bitorder="little")
            values = bits[c.offset: c.offset + len(c)].astype(np.float64)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            values = np.frombuffer(bufs[1], dtype=_NP[str(t)])
            values = values[c.offset: c.offset + len(c)].astype(np.float64)
        elif pa.types.is_null(t):
            values = np.full(len(c), np.nan)
        else:
            values = np.array([_float(v) for v in c.to_pylist()], dtype=np.float64)
        if bufs and bufs[0] is not None and c.null_count and not pa.types.is_null(t):
            valid = np.unpackbits(np.frombuffer(bufs[0], dtype=np.uint8), bitorder="little")
            values = np.where(valid[c.offset: c.offset + len(c)].astype(bool), values, np.nan)
        parts.append(values)
    return np.concatenate(parts) if parts else np.zeros(0)


_NP = {"int8": "i1", "int16": "<i2", "int32": "<i4", "int64": "<i8", "uint8": "u1", "uint16": "<u2",
       "uint32": "<u4", "uint64": "<u8", "halffloat": "<f2", "float": "<f4", "double": "<f8"}


def _non_empty(col: Any) -> Any:
    """True where a string column holds a non-empty value, from the Arrow buffers (no per-row Python)."""
    import numpy as np
    import pyarrow as pa

    parts = []
    for chunk in col.chunks:
        if pa.types.is_null(chunk.type):
            parts.append(np.zeros(len(chunk), dtype=bool))
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            parts.append(np.array([_has_error(v) for v in chunk.to_pylist()], dtype=bool))
            continue
        validity, offsets = chunk.buffers()[:2]
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offs = np.frombuffer(offsets, dtype=width)[chunk.offset: chunk.offset + len(chunk) + 1]
        flag = np.diff(offs) > 0
        if validity is not None and chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            flag &= bits[chunk.offset: chunk.offset + len(chunk)].astype(bool)
        parts.append(flag)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _ts_array(col: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    if pa.types.is_timestamp(col.type):
        # straight from the Arrow buffers: to_numpy() on timestamps imports pandas (~0.3 s)
        scale = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[col.type.unit]
        parts = [np.frombuffer(c.buffers()[1], dtype=np.int64)[c.offset: c.offset + len(c)] for c in col.chunks]
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)) * scale
    return np.array([parse_ts_ns(v) or 0 for v in col.to_pylist()], dtype=np.int64)


def _missing(name: str, n: int) -> Any:
    import numpy as np

    if name in _PSEUDO:
        return np.zeros(n, dtype=bool)
    if name in TS_COLUMNS or name == "step":
        return np.zeros(n, dtype=np.int64)
    return np.full(n, np.nan)


def events_to_columns(events: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {}
    for name in {*columns, "step"}:
        if name == "has_error":
            out[name] = np.array([_has_error(e.get("error")) for e in events], dtype=bool)
        elif name == "held_back":
            out[name] = np.array([_held_back(e.get("risk_reasons")) for e in events], dtype=bool)
        elif name in TS_COLUMNS:
            out[name] = np.array([parse_ts_ns(e.get(name)) or 0 for e in events], dtype=np.int64)
        elif name == "step":
            out[name] = np.array([int(e.get("step", i)) for i, e in enumerate(events)], dtype=np.int64)
        else:
            out[name] = np.array([_float(e.get(name)) for e in events], dtype=np.float64)
    return out


def read_columns(run_dir: Path, columns: Sequence[str]) -> dict[str, Any]:
    """The requested columns of every event of the run, ordered by ``step``."""
    import numpy as np

    parquet = run_dir / PARQUET
    base = _parquet_columns(parquet, columns) if parquet.is_file() else None
    last_step = int(base["step"].max()) if base is not None and len(base["step"]) else None
    tail: list[dict[str, Any]] = []
    for event in iter_jsonl_backwards(run_dir / JSONL):
        if last_step is not None and _step(event) <= last_step:
            break  # everything before this is already in the Parquet file
        tail.append(event)
    tail.reverse()
    if base is None:
        return _ordered(events_to_columns(tail, columns))
    if not tail:
        return _ordered(base)
    extra = events_to_columns(tail, columns)
    return _ordered({k: np.concatenate([base[k], extra[k]]) for k in base})


def _step(event: dict[str, Any]) -> int:
    try:
        return int(event.get("step", -1))
    except (TypeError, ValueError):
        return -1


def _ordered(cols: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    steps = cols["step"]
    if len(steps) > 1 and not bool(np.all(steps[1:] >= steps[:-1])):
        order = np.argsort(steps, kind="stable")
        cols = {k: v[order] for k, v in cols.items()}
    return cols


def last_events(run_dir: Path, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` events as dicts (JSONL tail first, Parquet only if the tail is short)."""
    tail: list[dict[str, Any]] = []
    for event in iter_jsonl_backwards(run_dir / JSONL):
        tail.append(event)
        if len(tail) >= limit:
            break
    tail.reverse()
    parquet = run_dir / PARQUET
    if len(tail) < limit and parquet.is_file():
        import pyarrow as pa
        import pyarrow.parquet as pq

        from peaktrade.runtime.runlog import last_row_groups

        pf = pq.ParquetFile(parquet)
        have = {_step(e) for e in tail}
        # only the last row groups: a million-event run must not be read whole for ten rows
        groups = last_row_groups(pf, limit)
        names = [n for n in pf.schema_arrow.names if n in SHOWN]
        table = pf.read_row_groups(groups, columns=names, use_threads=False) if groups else pa.table({})
        table = table.slice(max(0, table.num_rows - limit))
        # timestamps converted from the buffers: their to_pylist() imports pandas (~0.3-1 s)
        times = {n: [ns_to_iso(int(v)) for v in _ts_array(table.column(n))]
                 for n in TS_COLUMNS if n in table.column_names and pa.types.is_timestamp(table.column(n).type)}
        rows = table.drop_columns(list(times)).to_pylist()
        for name, values in times.items():
            for row, value in zip(rows, values, strict=True):
                row[name] = value
        older = [r for r in rows if _step(r) not in have]
        tail = sorted(older + tail, key=_step)[-limit:]
    return tail

