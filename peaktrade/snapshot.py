"""A play's settings: config/config.toml and policies/*.yaml as one immutable snapshot (issue 8, item 5).

A play pins the hashes of its inputs when it starts (``playbook.pins.pin``). While it runs, every load of
one of those files through the one loader of its kind (``config.load_config``, ``policy.files.load_policy``)
goes through ``remembered``: the first load parses the file and checks that its bytes still hash to the
pinned value, later loads return a copy of what it parsed (a caller editing its copy cannot change the
snapshot). So every step of a play — and every sub-play — sees the
settings of the play's start, or is blocked naming the file that changed; never a mix of two versions (a
limit loosened while a confirm prompt waited). Act steps additionally re-check every pinned file before
they run (``pins.changed``), so a file that no step has read yet cannot change under an order either.

Outside a play (a plain CLI command, a session process) nothing is pinned and each load reads the file.
The pin lives in the process (a stack, not a context variable), so threads a step starts see it too.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from peaktrade.errors import BlockedError
from peaktrade.hashing import file_sha256
from peaktrade.root import Root

T = TypeVar("T")


@dataclass
class Snapshot:
    """What one play pinned: the files' hashes at its start and what was loaded from them since."""

    root: Path
    hashes: Mapping[str, str]  # root-relative path -> sha256 at the play's start ("missing" if absent)
    loaded: dict[str, Any] = field(default_factory=dict)


_STACK: list[Snapshot] = []
_LOCK = threading.Lock()


@contextmanager
def pinned(root: Root, hashes: Mapping[str, str]) -> Iterator[Snapshot]:
    """Pin ``hashes`` (from ``pins.pin``) for the loads of ``root``'s settings until the block ends."""
    snap = Snapshot(root.path.resolve(), dict(hashes))
    with _LOCK:
        _STACK.append(snap)
    try:
        yield snap
    finally:
        with _LOCK:
            _STACK.remove(snap)


def active(root: Root) -> Snapshot | None:
    where = root.path.resolve()
    with _LOCK:
        return next((s for s in reversed(_STACK) if s.root == where), None)


def remembered(root: Root, path: Path, load: Callable[[], T]) -> T:
    """``load()`` of the settings file ``path``: once per play, and only while its bytes are the pinned ones."""
    snap = active(root)
    rel = root.rel(path)
    if snap is None or rel not in snap.hashes:
        return load()
    with _LOCK:
        if rel in snap.loaded:
            return copy.deepcopy(snap.loaded[rel])  # a caller that edits its copy cannot change the snapshot
    value = load()
    try:
        now = file_sha256(path)
    except OSError:
        now = "missing"
    if now != snap.hashes[rel]:
        raise BlockedError(f"{rel} changed since the play started; the play keeps the settings it started with",
                           details=["start a new play to act on the changed file"])
    with _LOCK:
        snap.loaded.setdefault(rel, copy.deepcopy(value))
    return value
