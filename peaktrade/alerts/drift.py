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


def drift_events(run_dir: Path) -> list[tuple[int, str]]:
    """(ts_event in ns, error text) of every drift event of the run, oldest first."""
    found: list[tuple[int, str]] = []
    last_step: int | None = None
    parquet = run_dir / PARQUET
    if parquet.is_file():
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(parquet)
        names = set(pf.schema_arrow.names)
        cols = [c for c in ("step", "kind", "ts_event", "error") if c in names]
        table = pf.read(columns=cols, use_threads=False)
        if "step" in names and table.num_rows:
            last_step = int(pc.max(table.column("step")).as_py())
        if "kind" in names and table.num_rows:
            mask = pc.fill_null(pc.equal(pc.cast(table.column("kind"), "string"), "drift"), False)
            rows = table.filter(mask).to_pylist()
            found += [(parse_ts_ns(r.get("ts_event")) or 0, str(r.get("error") or "")) for r in rows]
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
