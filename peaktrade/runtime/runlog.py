"""Run logs (DESIGN 6): ``live_runs/<run_id>/meta.json``, ``events.jsonl`` and ``events.parquet``.

Crash safety: an event counts as written once its line has been handed to the kernel with one
``write()`` on an ``O_APPEND`` descriptor (that survives SIGKILL of the writer); the file is fsynced
periodically and on close (for power loss). Compaction appends the events written since the last
one to ``events.parquet`` as new row groups (a new file: tmp + fsync + rename); the JSONL file's
compacted head is cut off now and then (never the last round). Readers read the JSONL first, then
the Parquet file, and take from the JSONL only steps above the Parquet's last step: no event is
lost or counted twice whatever moment a compaction or a crash happens at.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import tomllib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.clock import utc_iso
from peaktrade.fsutil import StorageError, atomic_write_text, overwrite_in_place
from peaktrade.runtime import procinfo
from peaktrade.runtime.events import EVENT_FIELDS, TIME_FIELDS, arrow_schema, complete_lines

if TYPE_CHECKING:
    import pandas

    from peaktrade.root import Root

RUN_ID_RE = re.compile(r"^(shadow|testnet|live)_(\d{8})_(\d{6})_([0-9a-f]{6})$")
META_FILE, JSONL_FILE, PARQUET_FILE = "meta.json", "events.jsonl", "events.parquet"
ACTIVE_STATUSES = ("starting", "running", "stopping")


def new_run_id(mode: str, now: datetime) -> str:
    """``<mode>_<YYYYMMDD>_<HHMMSS>_<6 hex>`` (DESIGN 6), UTC."""
    return f"{mode}_{now.strftime('%Y%m%d_%H%M%S')}_{secrets.token_hex(3)}"


def runs_dir(root: Root) -> Path:
    """``[run_logs] base_dir`` relative to the root (read without the schema: hot path of the monitor)."""
    try:
        with open(root.config_file, "rb") as fh:
            section = tomllib.load(fh).get("run_logs", {})
        base = section.get("base_dir") if isinstance(section, dict) else None
    except (OSError, tomllib.TOMLDecodeError, RecursionError):  # a hostile config is reported by validate
        base = None
    return root.path / base if isinstance(base, str) and base else root.live_runs_dir


def run_dir(root: Root, run_id: str) -> Path:
    if not RUN_ID_RE.match(run_id):
        from peaktrade.errors import UsageError

        raise UsageError(f"not a run id: {run_id!r} (expected <mode>_<YYYYMMDD>_<HHMMSS>_<6 hex>)")
    return runs_dir(root) / run_id


def list_run_dirs(root: Root) -> list[Path]:
    """Run directories (those with a meta.json), oldest first by the start time in the run id."""
    base = runs_dir(root)
    if not base.is_dir():
        return []
    dirs = [p for p in base.iterdir() if RUN_ID_RE.match(p.name) and (p / META_FILE).is_file()]
    return sorted(dirs, key=lambda p: (p.name.split("_", 1)[1], p.name))


def write_meta(run_dir: Path, meta: dict[str, Any]) -> None:
    """meta.json, atomically. On a full disk (no room for the temporary copy) it is rewritten in
    place when it fits its own block, so a session can still record that it failed and why."""
    from peaktrade.redact import redact

    text = json.dumps(redact(meta), indent=2, default=str) + "\n"
    try:
        atomic_write_text(run_dir / META_FILE, text)
    except StorageError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not overwrite_in_place(run_dir / META_FILE, text):
            raise


def update_meta(run_dir: Path, **changes: Any) -> dict[str, Any]:
    meta = _read_meta_raw(run_dir)
    meta.update(changes)
    write_meta(run_dir, meta)
    return meta


def _read_meta_raw(run_dir: Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / META_FILE).read_text(encoding="utf-8"))


def read_meta(run_dir: Path) -> dict[str, Any]:
    """meta.json; a run still marked active whose process is gone reads as ``crashed``."""
    meta = _read_meta_raw(run_dir)
    if meta.get("status") in ACTIVE_STATUSES and meta.get("pid"):
        if not procinfo.is_alive(meta["pid"], meta.get("pid_start")):
            meta["status"] = "crashed"
    return meta


# --- reading events -------------------------------------------------------------------------


def _read_parts(run_dir: Path):
    """(parquet table or None, JSONL bytes of the events above its last step). The JSONL file is
    read first: see the module docstring."""
    run_dir = Path(run_dir)
    try:
        jsonl = complete_lines((run_dir / JSONL_FILE).read_bytes())
    except FileNotFoundError:
        jsonl = b""
    table = None
    if (run_dir / PARQUET_FILE).is_file():
        import pyarrow.parquet as pq

        table = pq.read_table(run_dir / PARQUET_FILE, schema=arrow_schema())
    return table, _lines_after(jsonl, _last_step(table))


def _line_step(line: bytes) -> int | None:
    """The step of one JSONL line (the writer puts it first; anything else is parsed in full)."""
    if line.startswith(b'{"step":'):
        end = line.find(b",", 8)
        if end > 8:
            try:
                return int(line[8:end])
            except ValueError:
                pass
    import orjson

    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    step = rec.get("step") if isinstance(rec, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _lines_after(jsonl: bytes, after_step: int) -> bytes:
    """The lines at the end of ``jsonl`` after the last one whose step is ``after_step`` or below
    (steps grow along the file; lines already compacted sit before the others)."""
    if not after_step:
        return jsonl
    end = len(jsonl)
    while end > 0:
        start = jsonl.rfind(b"\n", 0, end - 1) + 1
        step = _line_step(jsonl[start:end].strip())
        if step is not None and step <= after_step:
            return jsonl[end:]
        end = start
    return jsonl


def _jsonl_records(jsonl: bytes, after_step: int) -> list[dict[str, Any]]:
    import orjson

    out = []
    for line in jsonl.splitlines():
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a torn line can only be the last one of a killed writer
        if isinstance(rec, dict) and isinstance(rec.get("step"), int) and rec["step"] > after_step:
            out.append({f: rec.get(f) for f in EVENT_FIELDS})
    return out


def _last_step(table) -> int:
    if table is None or table.num_rows == 0:
        return 0
    import pyarrow.compute as pc

    return int(pc.max(table.column("step")).as_py())


def last_row_groups(pf, rows: int) -> list[int]:
    """Indices of the fewest trailing row groups of ParquetFile ``pf`` that hold at least ``rows`` rows
    (all of them if the file is shorter): the tail of a million-event run without reading it whole."""
    groups, count = [], 0
    for i in range(pf.metadata.num_row_groups - 1, -1, -1):
        groups.insert(0, i)
        count += pf.metadata.row_group(i).num_rows
        if count >= rows:
            break
    return groups


def parquet_last_step(path: Path) -> int:
    """The last step in a Parquet event file (0 if none): from the footer's statistics when present."""
    if not Path(path).is_file():
        return 0
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    md = pf.metadata
    names = pf.schema_arrow.names
    if "step" not in names or md.num_rows == 0:
        return 0
    col, last = names.index("step"), 0
    for i in range(md.num_row_groups):
        stats = md.row_group(i).column(col).statistics
        if stats is None or not stats.has_min_max:
            import pyarrow.compute as pc

            return int(pc.max(pf.read(columns=["step"]).column("step")).as_py() or 0)
        last = max(last, int(stats.max))
    return last


def parquet_rows(path: Path) -> int:
    if not Path(path).is_file():
        return 0
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def jsonl_last_step(path: Path) -> int:
    """The step of the last complete, readable line of an events.jsonl file (0 if none)."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return 0
    with fh:
        pos = fh.seek(0, os.SEEK_END)
        rest = b""
        while pos > 0:
            size = min(1 << 16, pos)
            pos -= size
            fh.seek(pos)
            buf = fh.read(size) + rest
            lines = buf.split(b"\n")
            rest = lines[0] if pos > 0 else b""
            body = lines[1:] if pos > 0 else lines
            for line in reversed(body):
                step = _line_step(line.strip()) if line.strip() else None
                if step is not None:
                    return step
    return 0


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    """All events of a run, ordered by step; ``ts_*`` as ISO-8601 UTC strings (as in the JSONL)."""
    table, jsonl = _read_parts(run_dir)
    events: list[dict[str, Any]] = []
    if table is not None:
        for rec in table.to_pylist():
            for f in TIME_FIELDS:
                if rec[f] is not None:
                    rec[f] = utc_iso(rec[f])
            events.append(rec)
    events.extend(_jsonl_records(jsonl, _last_step(table)))
    events.sort(key=lambda e: e["step"])
    return events


def read_events_frame(run_dir: Path) -> pandas.DataFrame:
    """All events as a DataFrame (Parquet + JSONL tail), ordered by step, ``ts_*`` as UTC datetimes."""
    import pyarrow as pa

    from peaktrade.runtime.events import parse_jsonl

    table, jsonl = _read_parts(run_dir)
    tables = [table] if table is not None else []
    if jsonl:
        tables.append(parse_jsonl(jsonl, _last_step(table)))
    merged = pa.concat_tables(tables) if tables else arrow_schema().empty_table()
    return merged.sort_by("step").to_pandas()


def tail_events(run_dir: Path, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` events: from the end of the JSONL file, and if it holds fewer, from the last
    row groups of the Parquet file (never the whole file: a long run has a million events)."""
    if limit <= 0:
        return []
    run_dir = Path(run_dir)
    try:
        jsonl = complete_lines((run_dir / JSONL_FILE).read_bytes())
    except FileNotFoundError:
        jsonl = b""
    recent: list[dict[str, Any]] = []
    end = len(jsonl)
    while end > 0 and len(recent) < limit:  # from the end: the JSONL may hold many compacted lines
        start = jsonl.rfind(b"\n", 0, end - 1) + 1
        recent[:0] = _jsonl_records(jsonl[start:end], 0)
        end = start
    if len(recent) >= limit or not (run_dir / PARQUET_FILE).is_file():
        return recent[-limit:]
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(run_dir / PARQUET_FILE)
    groups = last_row_groups(pf, limit)
    table = pf.read_row_groups(groups).cast(arrow_schema()) if groups else arrow_schema().empty_table()
    last = _last_step(table)
    table = table.slice(max(0, table.num_rows - limit))
    events = table.to_pylist()
    for rec in events:
        for f in TIME_FIELDS:
            if rec[f] is not None:
                rec[f] = utc_iso(rec[f])
    events.extend(_jsonl_records(_lines_after(jsonl, last), last))
    events.sort(key=lambda e: e["step"])
    return events[-limit:]


def count_events(run_dir: Path) -> int:
    table, jsonl = _read_parts(run_dir)
    rows = table.num_rows if table is not None else 0
    return rows + len(_jsonl_records(jsonl, _last_step(table)))


def jsonl_fd_flags() -> int:
    return os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
