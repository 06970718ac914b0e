"""The ``drift`` events of a run (for the ``position_drift`` rule), read without loading the whole log.

The session writes ``{"kind": "drift", "error": "position_drift: BTC ledger … vs exchange …"}`` when its
periodic reconciliation finds the desk ledger differing from the exchange account. ``monitor.columns``
reads numeric columns only, so the string column ``kind`` is read here: from ``events.parquet`` only
the rows whose ``kind`` is ``drift`` are materialised (Arrow compute), from ``events.jsonl`` only the
tail after the last compacted step, read backwards.
"""

from __future__ import annotations

from pathlib import Path

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
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(parquet)
    names = pf.schema_arrow.names
    meta = pf.metadata
    steps = [_stat_max(meta, "step", g) for g in range(meta.num_row_groups)]
    last_step = max(steps) if steps and None not in steps else None
    if "kind" not in names or "ts_event" not in names:
        return [], last_step
    found: list[tuple[int, str]] = []
    for g in range(meta.num_row_groups):
        newest = _stat_max(meta, "ts_event", g)
        if since_ns is not None and newest is not None and _ns(newest) < since_ns:
            continue
        kind = pf.read_row_group(g, columns=["kind"], use_threads=False).column("kind")
        mask = pc.fill_null(pc.equal(pc.cast(kind, "string"), "drift"), False)
        if not pc.any(mask).as_py():
            continue  # the usual case: only the one string column of the group was read
        cols = [c for c in ("ts_event", "error") if c in names]
        rows = pf.read_row_group(g, columns=cols, use_threads=False).filter(mask).to_pylist()
        found += [(parse_ts_ns(r.get("ts_event")) or 0, str(r.get("error") or "")) for r in rows]
    if last_step is None and "step" in names and meta.num_rows:
        last_step = int(pc.max(pf.read(columns=["step"]).column("step")).as_py())
    return found, last_step


def _stat_max(meta, column: str, group: int):  # noqa: ANN001, ANN202 - pyarrow metadata
    """The column's max in a row group from the file's statistics (None when not recorded)."""
    rg = meta.row_group(group)
    for i in range(rg.num_columns):
        chunk = rg.column(i)
        if chunk.path_in_schema == column:
            stats = chunk.statistics
            return stats.max if stats is not None and stats.has_min_max else None
    return None


def _ns(value) -> int:  # noqa: ANN001 - a datetime (timestamp statistics) or an int
    return parse_ts_ns(value) if not isinstance(value, int) else value
