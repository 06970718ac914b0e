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

_CACHE: dict[str, tuple[tuple[int, int], DeskStore]] = {}


def desk_path(root: Root) -> Path:
    return root.var_dir / "desk.sqlite"


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file the path names now (device, inode), without opening it.

    Never open()/close() the desk file here: closing any descriptor of a file drops every POSIX lock this
    process holds on it, SQLite's included, and another process could then delete the WAL under us. The
    store keeps its own descriptor open (``SqliteDesk.pinned``), so its inode number cannot be reused while
    we hold it: comparing the path's inode with the pinned one is exact, also after a delete-and-recreate."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def reset_cache() -> None:
    backend.close_all(store for _, store in _CACHE.values())
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
    if cached is not None and ident is not None and ident == cached[0]:
        return cached[1]
    if cached is not None:  # replaced or deleted under us: never keep reading the old file (holders of the
        _CACHE.pop(key, None)  # old handle ask open_desk again on their next call; it is closed when dropped)
    store = create_or_migrate(root, path)
    ident = store.pinned()  # type: ignore[attr-defined]
    if ident != _identity(path):
        raise DeskUnavailable(f"the desk state {path} was replaced while it was opened; try again")
    _CACHE[key] = (ident, store)
    return store
