"""Small file helpers: atomic writes, and appends that are whole or absent.

Every append to a journal, an event log or operations.log goes through ``append_whole``: it loops
on short writes, cuts the file back to where it was when a write or the fsync fails, and raises
``StorageError`` for a full, read-only or failing disk. So a record is either entirely in the file
or not at all, and a caller advances its own bookkeeping (e.g. ``journal.head``) only afterwards.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
from pathlib import Path

from peaktrade.errors import PeakTradeError

# the errors that mean "this disk cannot take the write", as opposed to a bug in the caller
_STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "input/output error on the device",
    errno.EFBIG: "file too large for the file system",
}


class StorageError(PeakTradeError):
    """A write the disk refused (full, quota, read-only, I/O error): one clear line, exit 1.

    ``path`` is the file, ``reason`` the plain cause, ``kept`` what the file still holds. A session
    that catches it should end ``failed`` with ``str(exc)`` as the reason.
    """

    def __init__(self, path: Path | str, reason: str, kept: str, *, code: int | None = None):
        self.path, self.reason, self.kept, self.errno = Path(path), reason, kept, code
        super().__init__(f"cannot write {path}: {reason}; {kept}")


def storage_error(exc: BaseException, path: Path | str, kept: str) -> StorageError | None:
    """``exc`` as a StorageError when it is a disk refusal (errno, or a library that only says it in
    words, like pyarrow's 'No space left on device'), else None (a bug: let it surface as one)."""
    if isinstance(exc, StorageError):
        return exc
    if not isinstance(exc, OSError):
        return None
    code = exc.errno
    if code not in _STORAGE_ERRNOS:
        text = str(exc)
        code = next((c for c in _STORAGE_ERRNOS if os.strerror(c) in text), None)
    if code is None:
        return None
    return StorageError(path, f"{_STORAGE_ERRNOS[code]} ({errno.errorcode.get(code, code)})", kept, code=code)


def append_whole(fd: int, data: bytes, *, path: Path | str, kept: str, start: int | None = None,
                 fsync: bool = True) -> None:
    """Append ``data`` to the O_APPEND descriptor ``fd`` entirely, or leave the file as it was.

    ``start`` is the file's size before the append (taken from ``fd`` when not given). A short
    write is continued; any failure cuts the file back to ``start`` and raises ``StorageError``
    (``kept`` says what the file still holds) or, for a non-disk error, the original exception.
    """
    if start is None:
        start = os.fstat(fd).st_size
    try:
        n = os.write(fd, data)  # the common case: one write takes it all (run logs append ~60k/s)
        if n != len(data):
            view = memoryview(data)[max(n, 0):]
            while view:
                n = os.write(fd, view)
                if n <= 0:  # a regular file that accepts nothing is full
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[n:]
        if fsync:
            os.fsync(fd)
    except OSError as exc:
        try:  # the half record must go, or the next one would be glued onto it
            os.ftruncate(fd, start)
        except OSError:
            pass
        err = storage_error(exc, path, kept)
        if err is None:
            raise
        raise err from None


def append_line(path: Path, line: str, *, fsync: bool = True, kept: str | None = None) -> None:
    """Append one line (newline added), whole or not at all, fsynced by default.

    An exclusive lock is held for the append: other processes append to the same file (two plays
    writing operations.log), and cutting back after a failure must not cut their lines.
    """
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        err = storage_error(exc, path, "nothing was written")
        if err is None:
            raise
        raise err from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        append_whole(fd, data, path=path, fsync=fsync,
                     kept=kept or "the file keeps every line before this one; this line was not written")
    finally:
        os.close(fd)  # closing releases the lock


def confined(root_dir: Path, raw: str | Path, what: str = "path") -> Path:
    """``raw`` (relative to ``root_dir``) as a path below ``root_dir``; an absolute path, a ``..`` or a
    symlink that leads outside is a UsageError (writes stay inside the deployment root)."""
    from peaktrade.errors import UsageError

    text = str(raw)
    if not text.strip() or "\x00" in text:
        raise UsageError(f"{what} {text[:200]!r}: not a usable path")
    given = Path(text)
    if given.is_absolute() or ".." in given.parts:
        raise UsageError(f"{what} {text[:200]!r}: must be a path below the deployment root "
                         "(no absolute path, no '..')")
    base = root_dir.resolve()
    target = (base / given).resolve()
    if target != base and base not in target.parents:  # a symlink inside the root pointing out
        raise UsageError(f"{what} {text[:200]!r}: leads outside the deployment root")
    return target


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half of one."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        err = storage_error(exc, path, "the previous version (if any) is unchanged")
        if err is None:
            raise
        raise err from None
    _fsync_dir(path.parent)


def overwrite_in_place(path: Path, text: str) -> bool:
    """Last resort on a full disk: rewrite a small file inside the blocks it already has.

    True when done. Only when the new text fits the file's allocated size (a small file owns a whole
    block), so no new block is needed; not atomic (a crash in between can leave it torn), which is
    why only a caller with nothing better (a session recording ``failed`` in meta.json) uses it.
    """
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if len(data) > max(st.st_blocks * 512, st.st_size):
            return False
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
