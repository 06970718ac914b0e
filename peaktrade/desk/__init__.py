"""The desk state (DESIGN 11): one store every process of the desk agrees on.

``open_desk(root)`` is the only way in. It returns the store of the deployment root, opened once per
process and re-opened when the file behind it was replaced. A missing store is created only for a
desk that has never run anything (a fresh checkout or ``peaktrade init``); a desk with history whose
store disappeared fails closed (``DeskUnavailable``: every order path blocks), and a desk of an older
release (``var/runs.sqlite``, ``var/kill-switch.json``) is migrated on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from peaktrade.desk import backend
from peaktrade.desk.store import DeskStore, DeskUnavailable
from peaktrade.root import Root

__all__ = ["DeskStore", "DeskUnavailable", "desk_path", "open_desk", "reset_cache"]

_CACHE: dict[str, tuple[tuple, DeskStore]] = {}


def desk_path(root: Root) -> Path:
    return root.var_dir / "desk.sqlite"


def _identity(path: Path) -> tuple | None:
    """Which file this is: device, inode, and the SQLite header with the desk's random application id.

    An inode number is reused at once after a delete, so a file replaced under a running process (garbage,
    another database) is told apart by its header, not by its inode alone."""
    try:
        st = os.stat(path, follow_symlinks=False)
        with open(path, "rb") as fh:
            head = fh.read(72)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, head[:16], head[68:72])


def reset_cache() -> None:
    for _, store in _CACHE.values():
        try:
            store.close()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - closing a stale handle must not fail anything
            pass
    _CACHE.clear()
    backend.reset()


def open_desk(root: Root) -> DeskStore:
    """The desk state of ``root``; raises DeskUnavailable (callers fail closed) when it cannot be used."""
    from peaktrade.desk.migrate import create_or_migrate

    url = backend.cluster_url(root)  # [desk_state] url: a desk on several hosts (PostgreSQL, extra cluster)
    if url is not None:
        return backend.open_postgres(root, url)
    path = desk_path(root)
    key = str(path)
    ident = _identity(path)
    cached = _CACHE.get(key)
    if cached is not None and ident == cached[0]:
        return cached[1]
    if cached is not None:  # replaced or deleted under us: never keep reading the old file (holders of the
        _CACHE.pop(key, None)  # old handle ask open_desk again on their next call; it is closed when dropped)
    store = create_or_migrate(root, path)
    ident = _identity(path)
    if ident is None:
        raise DeskUnavailable(f"the desk state {path} vanished while it was opened")
    _CACHE[key] = (ident, store)
    return store
