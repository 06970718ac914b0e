"""The run registry: which runs exist, their process and their state, persisted across CLI restarts.

``RunRegistry`` is the interface (a PostgreSQL backend would implement the same five methods);
``SqliteRegistry`` keeps it in ``var/runs.sqlite`` (WAL, busy timeout, one short transaction per
change, so two operators starting and stopping runs at once serialise instead of corrupting it).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

from peaktrade.errors import PeakTradeError

ACTIVE = ("starting", "running", "stopping")
FINAL = ("completed", "stopped", "killed", "crashed", "failed")


@dataclass
class RunRecord:
    run_id: str
    mode: str
    strategy: str
    symbol: str
    timeframe: str
    profile: str
    status: str = "starting"
    pid: int | None = None
    pid_start: int | None = None
    created_at: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    notes: str = ""
    operator: str = ""
    status_note: str = ""  # why it is in this state (e.g. "killed after 30 s", "process gone")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RunRegistry(Protocol):
    def add(self, record: RunRecord) -> None: ...

    def get(self, run_id: str) -> RunRecord | None: ...

    def list(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]: ...

    def update(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool:
        """Apply ``changes``; with ``only_if``, only when the current status is one of those (atomic)."""
        ...


class RegistryUnavailable(PeakTradeError):
    """The run registry cannot be opened or read (a corrupt, truncated or unreadable file): exit 1.

    The runs' own files (``live_runs/<run_id>/``) do not depend on it, so the way out is to move the file
    aside; ``runs.stop_all`` with ``force`` still finds this root's workers without it (``/proc``).
    """

    def __init__(self, path: Path, cause: BaseException):
        self.path = Path(path)
        self.cause = f"{type(cause).__name__}: {cause}"
        shown, aside = _shown(self.path), _shown(self.path.parent / "registry-broken")
        pattern = "peaktrade.runtime.worker" + (f".*--root {self.path.parent.parent}"
                                                if self.path.parent.name == "var" else "")
        super().__init__(
            f"the run registry {shown} cannot be opened or read ({cause}); "
            "the runs' own files under live_runs/ are intact",
            details=[
                f"move it aside with its -wal/-shm files and run the command again (a new, empty registry is "
                f"created): mkdir -p {aside} && mv {shown}* {aside}/",
                "runs started before stay unknown to the new registry; if any may still be running: "
                "peaktrade play shutdown-emergency (it finds this root's workers without the registry), "
                f"or pgrep -af '{pattern}' and kill <pid>",
            ])


def _shown(path: Path) -> str:
    """``var/runs.sqlite`` when the current directory is the deployment root, else the absolute path."""
    try:
        rel = path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return str(path)
    return str(rel) if len(rel.parts) <= 2 else str(path.resolve())


_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(fn: _F) -> _F:
    """SQLite errors of a registry method become one clear ``RegistryUnavailable`` (never a traceback)."""

    @functools.wraps(fn)
    def wrapper(self: SqliteRegistry, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:  # DatabaseError (not a database, malformed), OperationalError (cannot open)
            if "locked" in str(exc) or "busy" in str(exc):  # healthy, only held too long: no advice to move it
                raise PeakTradeError(f"the run registry {_shown(self.path)} stayed locked by another peaktrade "
                                     f"process for {self._timeout:g} s ({exc}); try again") from None
            raise RegistryUnavailable(self.path, exc) from None

    return wrapper  # type: ignore[return-value]


_COLUMNS = [f.name for f in fields(RunRecord)]
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, {", ".join(f"{c} {'INTEGER' if c in ('pid', 'pid_start') else 'TEXT'}"
                                      for c in _COLUMNS if c != "run_id")}
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
"""


class SqliteRegistry:
    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0):
        self.path = Path(path)
        self._timeout = busy_timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryUnavailable(self.path, exc) from None
        self._create()

    @_guarded
    def _create(self) -> None:
        with self._connect() as con:
            con.executescript(_SCHEMA)  # IF NOT EXISTS: safe when two processes create it at once
            # a file that is a database but not ours (or a truncated one) fails here, not in the middle of a stop
            con.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs LIMIT 0").fetchall()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("PRAGMA synchronous = NORMAL")
        return _Closing(con)

    @_guarded
    def add(self, record: RunRecord) -> None:
        cols = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        values = [getattr(record, c) for c in _COLUMNS]
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            con.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", values)
            con.execute("COMMIT")

    @_guarded
    def get(self, run_id: str) -> RunRecord | None:
        with self._connect() as con:
            row = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return RunRecord(*row) if row else None

    @_guarded
    def list(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]:
        sql = f"SELECT {', '.join(_COLUMNS)} FROM runs"
        args: list[Any] = []
        if active_only:
            sql += f" WHERE status IN ({', '.join('?' for _ in ACTIVE)})"
            args += list(ACTIVE)
        sql += " ORDER BY created_at DESC, run_id DESC"
        if limit:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._connect() as con:
            return [RunRecord(*row) for row in con.execute(sql, args).fetchall()]

    @_guarded
    def update(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool:
        unknown = set(changes) - set(_COLUMNS)
        if unknown or "run_id" in changes:
            raise ValueError(f"cannot update {sorted(unknown | ({'run_id'} & set(changes)))}")
        sets = ", ".join(f"{c} = ?" for c in changes)
        sql, args = f"UPDATE runs SET {sets} WHERE run_id = ?", [*changes.values(), run_id]
        if only_if is not None:
            allowed = list(only_if)
            sql += f" AND status IN ({', '.join('?' for _ in allowed)})"
            args += allowed
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            n = con.execute(sql, args).rowcount
            con.execute("COMMIT")
        return n == 1


class _Closing:
    """A connection used as a context manager that closes (sqlite3's own only ends the transaction)."""

    def __init__(self, con: sqlite3.Connection):
        self._con = con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def __enter__(self) -> sqlite3.Connection:
        return self._con

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is not None and self._con.in_transaction:
                self._con.execute("ROLLBACK")
        finally:
            self._con.close()


def open_registry(root: Any) -> RunRegistry:
    """The registry of a deployment root (``var/runs.sqlite``)."""
    return SqliteRegistry(root.var_dir / "runs.sqlite")
