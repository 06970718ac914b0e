"""The writing side of a run log: one writer per run, owned by the session process."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.fsutil import _fsync_dir
from peaktrade.runtime.events import EVENT_FIELDS, TIME_FIELDS, arrow_schema, complete_lines, table_from_jsonl
from peaktrade.runtime.runlog import JSONL_FILE, PARQUET_FILE, jsonl_fd_flags


class RunLogWriter:
    """Appends events; compacts to Parquet every ``compact_every`` events and on close."""

    def __init__(self, run_dir: Path, *, compact_every: int = 5000, fsync_interval_s: float = 1.0,
                 clock: Clock = SYSTEM_CLOCK):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.compact_every = max(1, int(compact_every))
        self.fsync_interval_s = fsync_interval_s
        self._clock = clock
        self._fd: int | None = os.open(self.run_dir / JSONL_FILE, jsonl_fd_flags(), 0o644)
        self._dumps = _orjson_dumps()
        self._since_compact = 0
        self._last_fsync = clock.monotonic()
        self.step = self._existing_last_step()

    def _existing_last_step(self) -> int:
        from peaktrade.runtime.runlog import read_events

        events = read_events(self.run_dir) if (self.run_dir / PARQUET_FILE).exists() or \
            os.path.getsize(self.run_dir / JSONL_FILE) else []
        return events[-1]["step"] if events else 0

    def append(self, event: dict[str, Any]) -> int:
        """Write one event (``step`` is assigned here); returns its step once the kernel has it."""
        if self._fd is None:
            raise ValueError("run log is closed")
        self.step += 1
        rec = {f: event.get(f) for f in EVENT_FIELDS}
        rec["step"] = self.step
        rec["kind"] = rec["kind"] or "bar"
        for f in TIME_FIELDS:
            if isinstance(rec[f], datetime):
                rec[f] = utc_iso(rec[f])
        if rec["error"] or rec["risk_reasons"]:
            rec.update(_redacted(rec["error"], rec["risk_reasons"]))
        line = self._dumps(rec)
        written = os.write(self._fd, line)
        if written != len(line):  # a short write on a regular file means the disk is full
            raise OSError(f"short write to {self.run_dir / JSONL_FILE} ({written} of {len(line)} bytes)")
        self._since_compact += 1
        if self._since_compact >= self.compact_every:
            self.compact()
        elif self._clock.monotonic() - self._last_fsync >= self.fsync_interval_s:
            self.sync()
        return self.step

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
        self._last_fsync = self._clock.monotonic()

    def compact(self) -> int:
        """Move every event so far into events.parquet (atomically); returns the rows it holds."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._fd is None:
            raise ValueError("run log is closed")
        self.sync()
        jsonl_path, parquet_path = self.run_dir / JSONL_FILE, self.run_dir / PARQUET_FILE
        fresh = complete_lines(jsonl_path.read_bytes())
        tables = []
        if parquet_path.exists():
            tables.append(pq.read_table(parquet_path, schema=arrow_schema()))
        if fresh:
            tables.append(table_from_jsonl(fresh))
        table = pa.concat_tables(tables) if tables else arrow_schema().empty_table()
        tmp = self.run_dir / f".{PARQUET_FILE}.{os.getpid()}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, parquet_path)
        _fsync_dir(self.run_dir)
        # Only now is the JSONL redundant; a crash before this line leaves duplicates that
        # readers drop by step.
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self._since_compact = 0
        return table.num_rows

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self.compact()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _redacted(error: Any, reasons: Any) -> dict[str, Any]:
    from peaktrade.redact import redact

    return {"error": redact(error), "risk_reasons": redact(reasons)}


def _orjson_dumps():
    import orjson

    opt = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY

    def dumps(rec: dict[str, Any]) -> bytes:
        return orjson.dumps(rec, option=opt, default=str)

    return dumps
