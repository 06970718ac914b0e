"""The ``drift`` events of a run (for the ``position_drift`` rule), read without loading the whole log.

The session writes ``{"kind": "drift", "error": "position_drift: BTC ledger … vs exchange …"}`` when its
periodic reconciliation finds the desk ledger differing from the exchange account. ``monitor.columns``
reads numeric columns only, so the string column ``kind`` is read here: from ``events.parquet`` only
the rows whose ``kind`` is ``drift`` are materialised (Arrow compute), from ``events.jsonl`` only the
tail after the last compacted step, read backwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peaktrade.monitor.columns import JSONL, PARQUET, iter_jsonl_backwards, parse_ts_ns


def _is_drift(kind: object, error: object) -> bool:
    return kind == "drift" or (isinstance(error, str) and error.startswith("position_drift"))


def drift_events(run_dir: Path, since_ns: int | None = None) -> list[tuple[int, str]]:
    """(ts_event in ns, error text) of the run's drift events, oldest first; with ``since_ns``, Parquet row
    groups whose newest ``ts_event`` is older are not read (the runtime appends one row group per
    compaction, so a rule's window touches the last few)."""
    found: list[tuple[int, str]] = []
    last_step: int | None = None
    parquet = run_dir / PARQUET
    if parquet.is_file():
        found, last_step = _parquet_drifts(parquet, since_ns)
    tail: list[tuple[int, str]] = []
    for event in iter_jsonl_backwards(run_dir / JSONL):
        try:
            step = int(event.get("step", -1))
        except (TypeError, ValueError):
            step = -1
        if last_step is not None and step <= last_step:
            break  # already read from the Parquet file
        if _is_drift(event.get("kind"), event.get("error")):
            tail.append((parse_ts_ns(event.get("ts_event")) or 0, str(event.get("error") or "")))
    return sorted(found + tail)


def _parquet_drifts(parquet: Path, since_ns: int | None) -> tuple[list[tuple[int, str]], int | None]:
    # no pyarrow.compute: importing it costs ~50 ms of every cron run (docs/benchmarks.md); ``kind`` is read
    # dictionary-encoded instead, and the rows are found by comparing the small int indices with numpy
    import numpy as np
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(parquet)
    names = pf.schema_arrow.names
    if "kind" in names:  # read_dictionary naming a column the file lacks raises KeyError (older logs)
        pf = pq.ParquetFile(parquet, read_dictionary=["kind"])
    meta = pf.metadata
    steps = [_stat_max(meta, "step", g) for g in range(meta.num_row_groups)]
    last_step = max(steps) if steps and None not in steps else None
    if last_step is None and "step" in names and meta.num_rows:
        last_step = max((int(v) for v in pf.read(columns=["step"]).column("step").to_pylist() if v is not None),
                        default=None)
    if "kind" not in names or "ts_event" not in names:
        return [], last_step
    ts_type = pf.schema_arrow.field("ts_event").type
    scale = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}.get(getattr(ts_type, "unit", ""), 0)
    found: list[tuple[int, str]] = []
    for g in range(meta.num_row_groups):
        newest = _stat_max(meta, "ts_event", g)
        if since_ns is not None and newest is not None and scale and newest * scale < since_ns:
            continue
        kind = pf.read_row_group(g, columns=["kind"], use_threads=False).column("kind")
        hits = np.concatenate([_drift_rows(c) for c in kind.chunks]) if kind.num_chunks else np.zeros(0, bool)
        if not hits.any():
            continue  # the usual case: only the one dictionary-encoded column of the group was read
        cols = [c for c in ("ts_event", "error") if c in names]
        table = pf.read_row_group(g, columns=cols, use_threads=False)
        # the timestamps from their int64 buffers: converting a tz-aware timestamp to Python imports pandas
        ts = np.concatenate([np.frombuffer(c.buffers()[1], dtype=np.int64)[c.offset: c.offset + len(c)]
                             for c in table.column("ts_event").chunks]) * (scale or 1)
        errors = table.column("error") if "error" in cols else None
        for i in np.flatnonzero(hits):
            text = errors.slice(int(i), 1).to_pylist()[0] if errors is not None else None
            found.append((int(ts[i]), str(text or "")))
    return found, last_step


def _drift_rows(chunk) -> Any:  # noqa: ANN001 - a pyarrow DictionaryArray (or a plain string array)
    import numpy as np

    if not hasattr(chunk, "indices"):
        return np.array([v == "drift" for v in chunk.to_pylist()], dtype=bool)
    words = chunk.dictionary.to_pylist()
    if "drift" not in words:
        return np.zeros(len(chunk), dtype=bool)
    idx = chunk.indices
    width = np.dtype(f"<i{idx.type.bit_width // 8}")
    values = np.frombuffer(idx.buffers()[1], dtype=width)[idx.offset: idx.offset + len(idx)]
    hits = values == words.index("drift")
    validity = idx.buffers()[0]
    if validity is not None and idx.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        hits &= bits[idx.offset: idx.offset + len(idx)].astype(bool)
    return hits


def _stat_max(meta, column: str, group: int) -> int | None:  # noqa: ANN001 - pyarrow FileMetaData
    """The column's max in a row group, physical value (int64; µs/ns for a timestamp) from the file's
    statistics, None when not recorded. ``max_raw``: the logical ``max`` of a timestamp imports pandas."""
    rg = meta.row_group(group)
    for i in range(rg.num_columns):
        chunk = rg.column(i)
        if chunk.path_in_schema == column:
            stats = chunk.statistics
            raw = stats.max_raw if stats is not None and stats.has_min_max else None
            return int(raw) if isinstance(raw, int) else None
    return None
