"""The writing side of a run log: one writer per run, owned by the session process."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from peaktrade.fsutil import _fsync_dir
from peaktrade.runtime.events import EVENT_FIELDS, arrow_schema, complete_lines, parse_jsonl
from peaktrade.runtime.runlog import JSONL_FILE, PARQUET_FILE, jsonl_fd_flags

_EMPTY = dict.fromkeys(EVENT_FIELDS)


class RunLogWriter:
    """Appends events; compacts to Parquet every ``compact_every`` events and on close."""

    def __init__(self, run_dir: Path, *, compact_every: int = 5000, fsync_interval_s: float = 1.0,
                 clock: object = None):  # clock: accepted for older callers; the fsync timer is real time
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.compact_every = max(1, int(compact_every))
        self.fsync_interval_s = fsync_interval_s
        self._fd: int | None = os.open(self.run_dir / JSONL_FILE, jsonl_fd_flags(), 0o644)
        _drop_torn_tail(self.run_dir / JSONL_FILE, self._fd)
        self._dumps = _orjson_dumps()
        self._since_compact = 0
        self._compacted_rows = 0
        self._jsonl_kept = 0  # leading bytes of events.jsonl that are already in events.parquet
        self.step = self._existing_last_step()
        # fsync (for power loss) runs beside the appends: a slow disk must not stall a bar. SIGKILL
        # safety does not depend on it: an event is in the kernel once write() returned.
        self._lock = threading.Lock()
        self._dirty = False
        self._closing = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name=f"fsync-{self.run_dir.name}", daemon=True)
        self._syncer.start()

    def _sync_loop(self) -> None:
        while not self._closing.wait(self.fsync_interval_s):
            if self._dirty:
                self._dirty = False
                self.sync()

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
        rec = {**_EMPTY, **event}  # datetimes stay objects: orjson writes them as ISO-8601 with Z
        if len(rec) != len(_EMPTY):
            rec = {f: rec[f] for f in EVENT_FIELDS}
        rec["step"] = self.step
        rec["kind"] = rec["kind"] or "bar"
        if rec["error"] or rec["risk_reasons"]:
            rec.update(_redacted(rec["error"], rec["risk_reasons"]))
        line = self._dumps(rec)
        written = os.write(self._fd, line)
        if written != len(line):  # a short write on a regular file means the disk is full
            raise OSError(f"short write to {self.run_dir / JSONL_FILE} ({written} of {len(line)} bytes)")
        self._since_compact += 1
        # Compaction rewrites the whole Parquet file, so wait at least as many events as it holds:
        # the total work stays linear in the run's length (amortised), whatever compact_every says.
        self._dirty = True
        if self._since_compact >= self.compact_every and self._since_compact >= self._compacted_rows:
            self.compact()
        return self.step

    def sync(self) -> None:
        with self._lock:  # never an fsync of a descriptor that compact() or close() just closed
            if self._fd is not None:
                os.fsync(self._fd)

    def compact(self) -> int:
        """Move every event so far into events.parquet (atomically); returns the rows it holds.

        The JSONL file then keeps the events of this last round only (they are in both files): a
        reader that read the previous Parquet file just before the swap still finds them in the
        JSONL file, whichever of the two files it reads first.
        """
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        if self._fd is None:
            raise ValueError("run log is closed")
        self.sync()
        jsonl_path, parquet_path = self.run_dir / JSONL_FILE, self.run_dir / PARQUET_FILE
        fresh = complete_lines(jsonl_path.read_bytes())[self._jsonl_kept:]
        tables = []
        if parquet_path.exists():
            tables.append(pq.read_table(parquet_path, schema=arrow_schema()))
        last = int(pc.max(tables[0].column("step")).as_py() or 0) if tables and tables[0].num_rows else 0
        if fresh:
            tables.append(parse_jsonl(fresh, last))  # above `last`: a reopened log re-reads old lines
        table = pa.concat_tables(tables) if tables else arrow_schema().empty_table()
        _replace(parquet_path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
        # Only now is the older part of the JSONL redundant; a crash before the swap below leaves
        # duplicates that readers drop by step.
        _replace(jsonl_path, lambda tmp: tmp.write_bytes(fresh))
        with self._lock:
            os.close(self._fd)
            self._fd = os.open(jsonl_path, jsonl_fd_flags(), 0o644)
        self._jsonl_kept = len(fresh)
        self._since_compact = 0
        self._compacted_rows = table.num_rows
        return table.num_rows

    def close(self) -> None:
        if self._fd is None:
            return
        self._closing.set()
        try:
            self.compact()
        finally:
            with self._lock:
                os.close(self._fd)
                self._fd = None
            self._syncer.join()

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop_torn_tail(path: Path, fd: int) -> None:
    """A writer killed mid-line left a fragment without newline: it never counted, so cut it off
    (appending after it would glue the next event onto it)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    with open(path, "rb") as fh:
        fh.seek(max(0, size - (1 << 16)))
        tail = fh.read()
    if tail.endswith(b"\n"):
        return
    cut = tail.rfind(b"\n")
    keep = size - len(tail) + cut + 1 if cut >= 0 else (0 if size <= len(tail) else None)
    if keep is None:  # one line longer than 64 KiB: not ours to judge, start a new line instead
        os.write(fd, b"\n")
        return
    os.ftruncate(fd, keep)


def _replace(path: Path, write) -> None:  # noqa: ANN001 - write(tmp_path) fills the new file
    """Atomically replace ``path`` with what ``write`` puts into a temporary file beside it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _redacted(error: Any, reasons: Any) -> dict[str, Any]:
    from peaktrade.redact import redact

    return {"error": redact(error), "risk_reasons": redact(reasons)}


def _orjson_dumps():
    import orjson

    # naive datetimes are taken as UTC; aware ones are written with their offset (UTC as Z)
    opt = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC

    def dumps(rec: dict[str, Any]) -> bytes:
        return orjson.dumps(rec, option=opt, default=str)

    return dumps
