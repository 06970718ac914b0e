"""Creating the desk state, and migrating a desk of an older release into it.

An older desk kept its registry in ``var/runs.sqlite``, its kill switch in ``var/kill-switch.json`` and
the use of an approval in the request file (``used_by``). On first use they are imported into
``var/desk.sqlite`` under a lock and renamed ``*.migrated`` (kept, never read again). A store that
disappeared from a desk that had one (``var/desk.created`` says it did) is not silently recreated: that
would release an engaged kill switch. ``recreate`` makes a new one with the kill switch engaged.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from pathlib import Path

from filelock import FileLock, Timeout

from peaktrade.clock import SYSTEM_CLOCK, utc_iso
from peaktrade.desk.sqlite import SqliteDesk
from peaktrade.desk.store import KS_STATES, RUN_COLUMNS, DeskUnavailable, KillSwitchRow, RunRecord
from peaktrade.root import Root

MARKER = "desk.created"
LEGACY = ("runs.sqlite", "kill-switch.json")


def _lock(path: Path) -> FileLock:
    return FileLock(str(path.with_name(path.name + ".lock")), timeout=30)


def create_or_migrate(root: Root, path: Path) -> SqliteDesk:
    if path.is_symlink():
        raise DeskUnavailable(f"the desk state {root.rel(path)} is a symbolic link; it must be a regular file "
                              "(failing closed: every order is blocked)")
    if path.exists():
        return _open_existing(root, path)
    try:
        root.var_dir.mkdir(parents=True, exist_ok=True)
        with _lock(path):
            if path.exists() or path.is_symlink():  # another process created it meanwhile
                return create_or_migrate_existing(root, path)
            legacy = [n for n in LEGACY if (root.var_dir / n).exists()]
            if (root.var_dir / MARKER).exists() and not legacy:
                raise DeskUnavailable(
                    f"the desk state {root.rel(path)} is missing, but this desk had one "
                    f"({root.rel(root.var_dir / MARKER)}):"
                    " failing closed, every order is blocked",
                    details=["restore var/desk.sqlite from a backup, or recreate it with the kill switch engaged: "
                             "peaktrade desk migrate --recreate"])
            return _create(root, path, KillSwitchRow("ACTIVE"), legacy=bool(legacy))
    except Timeout:
        raise DeskUnavailable(f"the desk state {root.rel(path)} is being created by another process (lock held "
                              "for 30 s); try again") from None
    except OSError as exc:
        raise DeskUnavailable(f"the desk state {root.rel(path)} cannot be created ({exc})") from None


def create_or_migrate_existing(root: Root, path: Path) -> SqliteDesk:
    if path.is_symlink():
        raise DeskUnavailable(f"the desk state {root.rel(path)} is a symbolic link; failing closed")
    return _open_existing(root, path)


def _marker_id(root: Root) -> int | None:
    try:
        text = (root.var_dir / MARKER).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("application_id="):
            try:
                return int(line.split("=", 1)[1])
            except ValueError:
                return None
    return None


def _open_existing(root: Root, path: Path) -> SqliteDesk:
    """Open the store, and check it is the one this desk created (a fresh file swapped in reads engaged)."""
    store = SqliteDesk(path, create=False)
    expected = _marker_id(root)
    if expected is not None:
        found = store.application_id()
        if found != expected:
            store.close()
            raise DeskUnavailable(
                f"the desk state {root.rel(path)} is not the one this desk created (its id {found}, "
                f"{root.rel(root.var_dir / MARKER)} says {expected}): failing closed, every order is blocked",
                details=["restore the desk's own var/desk.sqlite from a backup, or recreate it with the kill "
                         "switch engaged: peaktrade desk migrate --recreate"])
    return store


def _create(root: Root, path: Path, kill_switch: KillSwitchRow, *, legacy: bool = False) -> SqliteDesk:
    """Build the whole store under a temporary name, then rename it into place (callers hold the lock).

    Another process sees either no store (and waits for the lock) or a complete one: never a file without
    its kill-switch row, which would read "unreadable, failing closed" (four operators starting runs at
    once on a fresh desk were refused that way), nor a new ACTIVE row before an older desk's engaged
    switch was imported into it."""
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
    _remove(tmp)  # left by a creator that died here
    try:
        fresh = SqliteDesk(tmp)
        try:
            app_id = secrets.randbits(31) or 1
            fresh.set_application_id(app_id)  # this desk's mark in the header (see _identity, _open_existing)
            fresh.init_kill_switch(kill_switch)
            fresh.set_meta("created_at", utc_iso(SYSTEM_CLOCK.now()))
            if legacy:
                _import_legacy_data(root, fresh)
            fresh.checkpoint()
        finally:
            fresh.close()
        wal = _with_sidecars(tmp)[1]
        if wal.exists() and wal.stat().st_size:  # committed rows that would stay behind in a log
            raise DeskUnavailable(f"the desk state {root.rel(path)} could not be completed (its write-ahead log "
                                  "was not checkpointed); try again")
    except BaseException:
        _remove(tmp)
        raise
    _fsync(tmp)
    # the marker first: a crash before the rename leaves a desk that fails closed ("missing, had one")
    _write_marker(root, app_id)
    os.rename(tmp, path)
    _fsync(path.parent)
    _remove(tmp)  # its log and index, if SQLite left them
    if legacy:
        _retire_legacy(root)
    return SqliteDesk(path, create=False)


def _with_sidecars(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _remove(path: Path) -> None:
    for f in _with_sidecars(path):
        f.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_marker(root: Root, app_id: int) -> None:
    marker = root.var_dir / MARKER
    tmp = marker.with_name(f".{MARKER}.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("var/desk.sqlite was created here; its loss or replacement fails closed\n"
                 f"application_id={app_id}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, marker)


def recreate(root: Root, *, by: str) -> SqliteDesk:
    """A new, empty desk state with the kill switch engaged (after the old one was lost)."""
    from peaktrade.desk import desk_path, reset_cache

    path = desk_path(root)
    with _lock(path):
        if path.exists() or path.is_symlink():
            aside = path.with_name(f"desk.sqlite.lost-{utc_iso(SYSTEM_CLOCK.now()).replace(':', '')}")
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                extra = path.with_name(path.name + suffix)
                if extra.exists():
                    extra.rename(aside.with_name(aside.name + suffix))
        reset_cache()
        now = utc_iso(SYSTEM_CLOCK.now())
        store = _create(root, path, KillSwitchRow("KILLED", "desk state recreated after it was lost", now, by, 1, now))
    return store


def _import_legacy_data(root: Root, store: SqliteDesk) -> None:
    var = root.var_dir
    runs = var / "runs.sqlite"
    if runs.exists():
        _import_runs(runs, store)
    ks = var / "kill-switch.json"
    if ks.exists():
        _import_kill_switch(ks, store)
    for req in sorted((var / "approvals").glob("*.json")):
        try:
            doc = json.loads(req.read_text(encoding="utf-8"))
            used = doc.get("used_by") if isinstance(doc, dict) else None
        except (OSError, ValueError):
            continue
        if isinstance(used, dict) and used.get("by"):
            store.bind_approval(req.stem, by=str(used["by"]), at=str(used.get("at") or ""))


def _retire_legacy(root: Root) -> None:
    """Rename the imported files ``*.migrated`` (kept, never read again) once the new store is in place."""
    var = root.var_dir
    for f in [*_with_sidecars(var / "runs.sqlite"), var / "kill-switch.json"]:
        if f.exists():
            f.rename(f.with_name(f.name + ".migrated"))


def _import_runs(path: Path, store: SqliteDesk) -> None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
        shared = [c for c in cols if c in RUN_COLUMNS]
        rows = con.execute(f"SELECT {', '.join(shared)} FROM runs").fetchall()
        con.close()
    except sqlite3.Error as exc:
        raise DeskUnavailable(f"the old run registry {path} cannot be read for migration ({exc}); move it aside "
                              "(mv var/runs.sqlite* somewhere) and try again") from None
    for row in rows:
        rec = RunRecord(**{"mode": "", "strategy": "", "symbol": "", "timeframe": "", "profile": "",
                           **dict(zip(shared, row, strict=True))})
        if store.get_run(rec.run_id) is None:
            store.add_run(rec)


def _import_kill_switch(path: Path, store: SqliteDesk) -> None:
    now = utc_iso(SYSTEM_CLOCK.now())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("state") not in KS_STATES:
            raise ValueError("no valid state")
    except (OSError, ValueError) as exc:
        data = {"state": "KILLED",
                "reason": f"migrated from an unreadable var/kill-switch.json ({exc}); failing closed",
                "since": now, "by": "migration", "engaged_since": now}
    state = data["state"]
    with store._tx() as con:  # the row of a new store is replaced by the migrated one
        con.execute("DELETE FROM kill_switch")
    store.init_kill_switch(KillSwitchRow(state, data.get("reason"), data.get("since"), data.get("by"),
                                         1 if state != "ACTIVE" or data.get("engaged_since") else 0,
                                         data.get("engaged_since"), data.get("recovering_until"),
                                         data.get("request_id")))
