"""The writing side of a run log: one writer per run, owned by the session process."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from peaktrade.fsutil import _fsync_dir, append_whole, storage_error
from peaktrade.runtime import runlog
from peaktrade.runtime.events import EVENT_FIELDS, arrow_schema, complete_lines
from peaktrade.runtime.runlog import JSONL_FILE, PARQUET_FILE, jsonl_fd_flags

_EMPTY = dict.fromkeys(EVENT_FIELDS)
ROW_GROUP_ROWS = 65_536  # the most rows per Parquet row group (a compaction round is one group or more)
TRIM_ROUNDS = 4  # cut the compacted head off events.jsonl once it holds this many rounds (and on close)
MERGE_ROW_GROUPS = 16  # on close, more row groups than this that average under half ROW_GROUP_ROWS are merged


class RunLogWriter:
    """Appends events; compacts to Parquet every ``compact_every`` events and on close.

    A compaction parses only the JSONL lines written since the previous one and appends them to
    ``events.parquet`` as new row groups (``pqappend``: the existing column chunks are copied, not
    re-encoded), so its cost does not grow with the run. The file is replaced atomically (tmp +
    fsync + rename). ``events.jsonl`` stays append-only between compactions; once its compacted head
    holds ``trim_rounds`` rounds (and on close) it is replaced by its lines from the last round on.

    The periodic compactions run in a background thread (JSON parsing, Parquet encoding and the
    fsyncs release the GIL), so an append never waits for one; ``compact()`` and ``close()`` compact
    synchronously. A failed background compaction loses nothing (the JSONL file still holds every
    event); it is retried on the next round and raised by ``close()`` if it still fails.
    """

    def __init__(self, run_dir: Path, *, compact_every: int = 5000, fsync_interval_s: float = 1.0,
                 clock: object = None, trim_rounds: int = TRIM_ROUNDS):
        # clock: accepted for older callers; the fsync timer is real time
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.compact_every = max(1, int(compact_every))
        self.fsync_interval_s = fsync_interval_s
        self.trim_rounds = max(1, int(trim_rounds))
        self._rounds = 0  # compactions since the JSONL file was last trimmed
        self._jsonl_path, self._parquet_path = self.run_dir / JSONL_FILE, self.run_dir / PARQUET_FILE
        _remove_stale_tmp(self.run_dir)
        self._fd: int | None = os.open(self._jsonl_path, jsonl_fd_flags(), 0o644)
        _drop_torn_tail(self._jsonl_path, self._fd)
        self._dumps = _orjson_dumps()
        self._since_compact = 0
        # byte offsets in events.jsonl (this writer is its only writer): its size, the end of what is
        # in events.parquet, the start of the last compacted round (kept when the head is cut off).
        # A reopened log starts at 0: the first compaction re-reads the file and keeps steps above
        # the Parquet file's last one.
        self._jsonl_size = os.fstat(self._fd).st_size
        self._compacted_upto = 0
        self._round_start = 0
        self._footer: tuple | None = None  # (FileMetaData fields, data end, st_ino, st_size) of events.parquet
        self._parquet_last = runlog.parquet_last_step(self._parquet_path)
        self.step = max(self._parquet_last, runlog.jsonl_last_step(self._jsonl_path))
        # _lock: the descriptor and _jsonl_size (appends, the JSONL swap, fsync's dup);
        # _compact_lock: one compaction at a time (background or called).
        self._lock = threading.Lock()
        self._compact_lock = threading.RLock()
        self.compact_error: BaseException | None = None  # of the last background compaction, if it failed
        self._dirty = False
        self._closing = threading.Event()
        self._wake = threading.Event()
        # fsync (for power loss) runs beside the appends: a slow disk must not stall a bar. SIGKILL
        # safety does not depend on it: an event is in the kernel once write() returned.
        self._syncer = threading.Thread(target=self._sync_loop, name=f"fsync-{self.run_dir.name}", daemon=True)
        self._syncer.start()
        self._compactor = threading.Thread(target=self._compact_loop, name=f"compact-{self.run_dir.name}",
                                           daemon=True)
        self._compactor.start()

    def _sync_loop(self) -> None:
        while not self._closing.wait(self.fsync_interval_s):
            if self._dirty:
                self._dirty = False
                try:
                    self.sync()
                except OSError as exc:  # kept for close(): a dying daemon thread would only print it
                    self.compact_error = storage_error(exc, self._jsonl_path, "events already written stay") or exc

    def _compact_loop(self) -> None:
        while True:
            self._wake.wait()
            if self._closing.is_set():
                return
            with self._compact_lock:  # wait_idle() sees a round as due or running, never neither
                self._wake.clear()
                try:
                    self._compact(background=True)
                    self.compact_error = None
                except Exception as exc:  # noqa: BLE001 - kept, retried next round, raised by close()
                    self.compact_error = exc

    def append(self, event: dict[str, Any]) -> int:
        """Write one event (``step`` is assigned here); returns its step once the kernel has it."""
        if self._fd is None:
            raise ValueError("run log is closed")
        rec = {**_EMPTY, **event}  # datetimes stay objects: orjson writes them as ISO-8601 with Z
        if len(rec) != len(_EMPTY):
            rec = {f: rec[f] for f in EVENT_FIELDS}
        rec["step"] = step = self.step + 1
        rec["kind"] = rec["kind"] or "bar"
        if rec["error"] or rec["risk_reasons"]:
            rec.update(_redacted(rec["error"], rec["risk_reasons"]))
        line = self._dumps(rec)
        with self._lock:
            if self._fd is None:
                raise ValueError("run log is closed")
            # whole or absent: a half line is cut off (else the next event would be glued onto it);
            # a full disk raises StorageError, which the session turns into a failed run
            append_whole(self._fd, line, path=self._jsonl_path, start=self._jsonl_size, fsync=False,
                         kept=f"the run log keeps its {self.step} complete event(s)")
            self._jsonl_size += len(line)
        self.step = step
        self._dirty = True
        self._since_compact += 1
        if self._since_compact >= self.compact_every:
            self._since_compact = 0
            self._wake.set()
        return step

    def sync(self) -> None:
        with self._lock:  # a duplicate descriptor: the fsync neither blocks appends nor races a swap
            if self._fd is None:
                return
            fd = os.dup(self._fd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no background compaction is due or running (tests, benchmarks)."""
        import time

        end = time.monotonic() + timeout
        while True:
            with self._compact_lock:
                if not self._wake.is_set() or self._closing.is_set():
                    return True
            if time.monotonic() > end:
                return False
            time.sleep(0.005)

    def compact(self) -> int:
        """Append every event written so far to events.parquet (synchronously); returns the rows it holds.

        The JSONL file keeps at least the events of this last round (they are in both files): a
        reader that read the previous Parquet file just before the swap still finds them in the
        JSONL file, whichever of the two files it reads first.
        """
        if self._fd is None:
            raise ValueError("run log is closed")
        self._since_compact = 0
        return self._compact(background=False)

    def _compact(self, *, background: bool) -> int:
        from peaktrade.runtime.events import parse_jsonl

        with self._compact_lock:
            with self._lock:
                if self._fd is None:
                    return 0
                end = self._jsonl_size
            table = None
            if end > self._compacted_upto:
                # Only the lines since the last round are parsed (pyarrow's C++ reader: the GIL is
                # free for the appends meanwhile; a Python-side conversion of the records would hold
                # it and stall them). Steps above the last one only: a reopened log re-reads lines
                # already compacted. Only this thread swaps the JSONL file: the offsets are stable.
                with open(self._jsonl_path, "rb") as fh:
                    fh.seek(self._compacted_upto)
                    fresh = complete_lines(fh.read(end - self._compacted_upto))
                end = self._compacted_upto + len(fresh)
                # one thread in the background, so that the appends keep the other core
                table = parse_jsonl(fresh, self._parquet_last, use_threads=not background)
            rows = None
            if table is not None and table.num_rows:
                rows = self._append_parquet(table)
            if rows is None and not self._parquet_path.exists():  # readers (pandas) find a file after any compaction
                import pyarrow.parquet as pq

                _replace(self._parquet_path, lambda tmp: pq.write_table(arrow_schema().empty_table(), tmp,
                                                                        compression="zstd", write_page_index=False))
            if rows is None:
                rows = runlog.parquet_rows(self._parquet_path)
            self._round_start, self._compacted_upto = self._compacted_upto, end
            self._rounds += 1
            if self._rounds > self.trim_rounds:
                self._trim_jsonl()
            return rows

    def _append_parquet(self, table) -> int:  # noqa: ANN001 - a pyarrow.Table with the event schema
        import io

        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from peaktrade.runtime import pqappend

        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_page_index=False)
        new = buf.getvalue()
        last = int(pc.max(table.column("step")).as_py())
        footer = self._current_footer()
        spliced = pqappend.splice(footer[0], footer[1], new) if footer is not None else None
        if spliced is not None:
            meta, chunks, tail = spliced
            data_end = footer[1]

            def write(tmp: Path) -> None:
                with open(self._parquet_path, "rb") as src, open(tmp, "wb") as dst:
                    _copy(src.fileno(), dst.fileno(), data_end)
                    dst.write(chunks)
                    dst.write(tail)

            _replace(self._parquet_path, write)
            st = os.stat(self._parquet_path)
            self._footer = (meta, data_end + len(chunks), st.st_ino, st.st_size)
            rows = pqappend.num_rows(meta)
        elif self._parquet_path.exists():  # not a file we can append to: rewrite it whole (rare)
            import pyarrow as pa

            old = pq.ParquetFile(self._parquet_path).read().cast(arrow_schema())
            merged = pa.concat_tables([old, table])
            _replace(self._parquet_path, lambda tmp: pq.write_table(
                merged, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_page_index=False))
            self._footer = None
            rows = merged.num_rows
        else:
            _replace(self._parquet_path, lambda tmp: tmp.write_bytes(new))
            self._footer = None
            rows = table.num_rows
        self._parquet_last = max(self._parquet_last, last)
        return rows

    def _current_footer(self) -> tuple | None:
        """The parsed footer of events.parquet (cached while the file is the one this writer wrote)."""
        from peaktrade.runtime import pqappend

        try:
            st = os.stat(self._parquet_path)
        except FileNotFoundError:
            return None
        f = self._footer
        if f is not None and f[2] == st.st_ino and f[3] == st.st_size:
            return f
        try:
            with open(self._parquet_path, "rb") as fh:
                fh.seek(max(0, st.st_size - 8))
                length = pqappend.footer_length(fh.read(8))
                fh.seek(max(0, st.st_size - length - 8))
                meta, data_end = pqappend.read_footer(fh.read(), st.st_size)
        except (pqappend.Unsupported, IndexError, ValueError, OSError):
            return None
        self._footer = (meta, data_end, st.st_ino, st.st_size)
        return self._footer

    def _trim_jsonl(self) -> None:
        """Replace events.jsonl by its lines from the start of the last compacted round on (atomically).

        Only now is the head of the JSONL redundant (the Parquet file holding it is fsynced and
        renamed); a crash before the swap leaves lines in both files, which readers drop by step.
        Appends go on while the kept part is copied; they wait only for the last bytes and the rename.
        """
        keep = self._round_start
        if keep <= 0:
            return
        tmp = self._jsonl_path.with_name(f".{JSONL_FILE}.{os.getpid()}.tmp")
        with self._lock:
            size = self._jsonl_size
        try:
            with open(self._jsonl_path, "rb") as src, open(tmp, "wb") as dst:
                src.seek(keep)
                _copy(src.fileno(), dst.fileno(), size - keep)
                dst.flush()
                os.fsync(dst.fileno())
                with self._lock:
                    if self._fd is None:
                        raise ValueError("run log is closed")
                    _copy(src.fileno(), dst.fileno(), self._jsonl_size - size)  # appended meanwhile
                    os.replace(tmp, self._jsonl_path)
                    os.close(self._fd)
                    self._fd = os.open(self._jsonl_path, jsonl_fd_flags(), 0o644)
                    self._jsonl_size -= keep
                    self._dirty = True  # the new file's tail is fsynced by the next sync
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            err = storage_error(exc, self._jsonl_path, "events.jsonl is unchanged and keeps every event")
            if err is None:
                raise
            raise err from None
        _fsync_dir(self.run_dir)
        self._compacted_upto -= keep
        self._round_start = 0
        self._rounds = 1

    def close(self) -> None:
        if self._fd is None:
            return
        self._closing.set()
        self._wake.set()
        self._compactor.join()  # a round in progress finishes first
        try:
            self.compact()
            with self._compact_lock:
                self._merge_small_row_groups()
                self._trim_jsonl()
        finally:
            with self._lock:
                os.close(self._fd)
                self._fd = None
            self._syncer.join()

    def _merge_small_row_groups(self) -> None:
        """Many small row groups (one per round) are rewritten into groups of ROW_GROUP_ROWS once, at close."""
        import pyarrow.parquet as pq

        if not self._parquet_path.exists():
            return
        pf = pq.ParquetFile(self._parquet_path)
        md = pf.metadata
        if md.num_row_groups <= MERGE_ROW_GROUPS or md.num_rows >= md.num_row_groups * ROW_GROUP_ROWS // 2:
            return
        table = pf.read()
        _replace(self._parquet_path, lambda tmp: pq.write_table(
            table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS, write_page_index=False))
        self._footer = None

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _copy(src: int, dst: int, count: int) -> None:
    """Copy ``count`` bytes from the current offset of ``src`` to ``dst`` (in the kernel where it can)."""
    while count > 0:
        try:
            n = os.copy_file_range(src, dst, count)
        except OSError:
            n = os.write(dst, os.read(src, min(count, 1 << 22)))
        if n <= 0:
            raise OSError("file shrank while being copied")
        count -= n


def _remove_stale_tmp(run_dir: Path) -> None:
    """Temporary files of a writer killed mid-compaction (never read by anyone) are removed."""
    for name in (PARQUET_FILE, JSONL_FILE):
        for tmp in run_dir.glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)


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
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)  # a full disk must not also keep the half-written copy
        err = storage_error(exc, path, f"{path.name} is unchanged; events.jsonl keeps every event")
        if err is None:
            raise
        raise err from None
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
