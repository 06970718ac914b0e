"""The play journal (DESIGN 4): var/plays/<play_id>/journal.jsonl, append-only and hash-chained.

Each record is ``{seq, ts, type, ..., prev_hash, hash}``; ``hash`` is the sha256 of the canonical
JSON of the record without ``hash``, and ``prev_hash`` is the previous record's hash (64 zeros for
the first). A chain alone cannot show that trailing records were cut off, so ``journal.head`` holds
the seq and hash of the last record written; it is updated after the record is fsynced, so after a
crash the head may lag the journal, never lead it.

Writes are whole or absent (``fsutil.append_whole``): on a full or failing disk the half record is
cut off, the head and the counters stay at the last complete record, and ``StorageError`` says so.
The journal then verifies clean and the play can be resumed once there is room again.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import UsageError
from peaktrade.fsutil import append_whole, storage_error
from peaktrade.hashing import canonical_json, sha256_bytes
from peaktrade.playbook.redaction import redact_record

GENESIS = "0" * 64
JOURNAL = "journal.jsonl"
HEAD = "journal.head"
_DEFERRED = {signal.SIGINT, signal.SIGTERM}
_HEAD_LEN = 12 + 1 + 64 + 1  # "<seq:012d> <sha256>\n"


def new_play_id(clock: Clock = SYSTEM_CLOCK) -> str:
    return f"{clock.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return sha256_bytes(canonical_json(body).encode("utf-8"))


def journal_path(plays_dir: Path, play_id: str) -> Path:
    if not play_id or "/" in play_id or play_id.startswith("."):
        raise UsageError(f"invalid play id {play_id!r}")
    return plays_dir / play_id / JOURNAL


class Journal:
    """An open journal: appends are redacted, hash-chained and fsynced before ``append`` returns."""

    def __init__(self, path: Path, *, clock: Clock = SYSTEM_CLOCK):
        self.path = path
        self.clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:  # a full or read-only disk: one clear line, not an internal error
            err = storage_error(exc, path, "no journal was started")
            if err is None:
                raise
            raise err from None
        try:
            # one writer per play: a second `--resume` of a running play is refused
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise UsageError(f"play {path.parent.name} is running in another process") from None
        self._head_fd = os.open(path.parent / HEAD, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # the head's bytes are reserved now, so that rewriting it in place never needs a new block
            # (a full disk cannot leave it empty or half written after a complete record)
            os.posix_fallocate(self._head_fd, 0, _HEAD_LEN)
        except OSError as exc:
            err = storage_error(exc, path.parent / HEAD, "no record was written")
            if err is not None:  # a file system without fallocate is fine: the head then lags at worst
                self.close()
                raise err from None
        self.seq, self.last_hash = 0, GENESIS
        existing = read_records(path)
        if existing:
            self.seq, self.last_hash = existing[-1]["seq"], existing[-1]["hash"]

    def append(self, type_: str, **fields: Any) -> dict[str, Any]:
        body = redact_record(fields)
        record: dict[str, Any] = {"seq": self.seq + 1, "ts": utc_iso(self.clock.now()), "type": type_}
        record.update(body)
        record["prev_hash"] = self.last_hash
        # round-trip first so the hash is over exactly what a reader will parse back
        record = json.loads(json.dumps(record, default=str, ensure_ascii=False))
        record["hash"] = record_hash(record)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        # Ctrl-C / SIGTERM wait until the record, the head and our counters agree; otherwise the
        # play_interrupted record written next could repeat a seq and break the chain.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
        try:
            kept = (f"the journal keeps its {self.seq} complete record(s) and verifies; "
                    f"resume the play with --resume {self.path.parent.name} once there is room")
            append_whole(self._fd, line.encode("utf-8"), path=self.path, kept=kept)
            self.seq, self.last_hash = record["seq"], record["hash"]
            # not fsynced: after a power loss the head may lag, which verify accepts (see _check_head)
            head = f"{record['seq']:012d} {record['hash']}\n".encode()
            try:
                if os.pwrite(self._head_fd, head, 0) != len(head):
                    raise OSError(5, "short write")
            except OSError as exc:  # the record is whole; a head left behind only lags (accepted)
                raise storage_error(exc, self.path.parent / HEAD, kept) or exc from None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        return record

    def close(self) -> None:
        for fd in (self._fd, self._head_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def read_records(path: Path) -> list[dict[str, Any]]:
    """Parse the journal lines (no integrity check; see ``verify_journal``)."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(json.loads(line))
    return out


@dataclass
class JournalCheck:
    ok: bool
    problems: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)


def verify_journal(path: Path) -> JournalCheck:
    """Detect any record changed, removed, reordered or inserted (and trailing records cut off)."""
    path = Path(path)
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        return JournalCheck(False, [f"{path}: cannot read: {exc.strerror}"])
    prev = GENESIS
    for i, line in enumerate(lines, start=1):
        try:
            rec = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:  # a journal overwritten with binary data is tampered, not a crash
            problems.append(f"line {i}: not UTF-8 text")
            continue
        except json.JSONDecodeError:
            problems.append(f"line {i}: not a JSON record")
            continue
        if not isinstance(rec, dict):
            problems.append(f"line {i}: not a JSON object")
            continue
        if rec.get("seq") != i:
            problems.append(f"line {i}: seq is {rec.get('seq')!r}, expected {i}")
        if rec.get("prev_hash") != prev:
            problems.append(f"line {i}: prev_hash does not match the hash of the record before")
        if rec.get("hash") != record_hash(rec):
            problems.append(f"line {i}: content does not match its hash (record changed)")
        prev = rec.get("hash") if isinstance(rec.get("hash"), str) else ""
        records.append(rec)
    problems += _check_head(path.parent / HEAD, records)
    return JournalCheck(not problems, problems, records)


def _check_head(head: Path, records: list[dict[str, Any]]) -> list[str]:
    try:
        # NULs: the bytes reserved when the journal was opened, not yet written (no record yet)
        text = head.read_text(encoding="ascii").strip().strip("\x00")
    except (OSError, UnicodeDecodeError):
        text = ""
    if not text:
        return [] if len(records) <= 1 else [f"{HEAD} is missing"]
    try:
        seq_s, hash_s = text.split()
        seq = int(seq_s)
    except ValueError:
        return [f"{HEAD} is unreadable"]
    by_seq = {r.get("seq"): r.get("hash") for r in records}
    last = records[-1].get("seq") if records else 0
    # The head is written after its record and not fsynced: after a crash it equals the last record
    # or an earlier one, never a later one. Cutting records off leaves it naming a missing record.
    if by_seq.get(seq) != hash_s or not isinstance(last, int) or seq > last:
        return [f"{HEAD} names record {seq} which is not the last record (records removed or replaced)"]
    return []
