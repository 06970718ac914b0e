"""The embedded desk state: one SQLite file ``var/desk.sqlite`` (WAL, durable commits, versioned schema).

Every method is one short transaction. Transitions that must be atomic take the write lock first
(``BEGIN IMMEDIATE``), so two processes that engage and release, or reserve against one limit, serialise.
Any SQLite error becomes ``DeskUnavailable`` (one clear line); a full disk is named as such.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from peaktrade.desk.sqlite_cluster import V2, SqliteClusterOps
from peaktrade.desk.store import (
    INTENT_COLUMNS,
    INTENT_OPEN,
    KS_STATES,
    RUN_ACTIVE,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    AlertRow,
    DeskUnavailable,
    Intent,
    KillSwitchRow,
    Ledger,
    PlayRow,
    Position,
    RunRecord,
    book_position,
    fill_of_intent,
)

_INT_COLS = {"pid", "pid_start"}
_REAL_COLS = {"quantity", "price", "filled", "avg_price", "fee"}


def _coltype(name: str) -> str:
    return "INTEGER" if name in _INT_COLS else "REAL" if name in _REAL_COLS else "TEXT"


_V1 = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY,
  {", ".join(f"{c} {_coltype(c)}" for c in RUN_COLUMNS if c != "run_id")});
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE UNIQUE INDEX IF NOT EXISTS runs_play ON runs(play_id, step_key) WHERE play_id != '';
CREATE TABLE IF NOT EXISTS kill_switch (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT, reason TEXT,
  since TEXT, by TEXT, engagement INTEGER NOT NULL DEFAULT 0, engaged_since TEXT, recovering_until TEXT,
  request_id TEXT);
CREATE TABLE IF NOT EXISTS accounts (account TEXT PRIMARY KEY, cash REAL NOT NULL, realized_pnl REAL NOT NULL
  DEFAULT 0, fees REAL NOT NULL DEFAULT 0, day TEXT, day_start_equity REAL, halted_day TEXT, halted_reason TEXT,
  version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS positions (account TEXT NOT NULL, symbol TEXT NOT NULL, quantity REAL NOT NULL,
  avg_price REAL NOT NULL DEFAULT 0, mark REAL, PRIMARY KEY (account, symbol));
CREATE TABLE IF NOT EXISTS intents (client_order_id TEXT PRIMARY KEY,
  {", ".join(f"{c} {_coltype(c)}" for c in INTENT_COLUMNS if c != "client_order_id")});
CREATE INDEX IF NOT EXISTS intents_open ON intents(account, status);
CREATE TABLE IF NOT EXISTS approval_use (request_id TEXT PRIMARY KEY, by TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (key TEXT PRIMARY KEY, rule TEXT, run_id TEXT, severity TEXT, status TEXT,
  message TEXT, playbook TEXT, first_fired TEXT, last_notified TEXT, resolved_at TEXT, notifications INTEGER);
CREATE TABLE IF NOT EXISTS plays (play_id TEXT PRIMARY KEY, playbook TEXT, operator TEXT, started_at TEXT,
  outcome TEXT, finished_at TEXT, head TEXT, records INTEGER);
"""

# schema version -> the script that brings the previous version to it (append only; never edit one)
MIGRATIONS: dict[int, str] = {1: _V1, 2: V2}


def _disk_full(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "disk is full" in text or "disk i/o" in text or "no space" in text


class SqliteDesk(SqliteClusterOps):
    backend = "sqlite"

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0, create: bool = True):
        self.path = Path(path)
        self._timeout = busy_timeout_s
        self._lock = threading.RLock()
        if self.path.is_symlink():
            raise DeskUnavailable(f"the desk state {self.shown} is a symbolic link; it must be a regular file "
                                  "(failing closed: the kill switch reads engaged)")
        if not self.path.exists() and not create:
            raise DeskUnavailable(f"the desk state {self.shown} does not exist")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                        check_same_thread=False)
            self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._con.execute("PRAGMA journal_mode = WAL")
            self._con.execute("PRAGMA synchronous = FULL")  # a committed intent survives a power cut
            self._migrate()
            # held open for the store's life: pins the inode (see peaktrade.desk._identity); never closed
            # while SQLite has the file open, since any close drops this process's locks on it
            self._pin = os.open(self.path, os.O_RDONLY)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        except OSError as exc:
            raise DeskUnavailable(f"the desk state {self.shown} cannot be opened ({exc})") from None

    # -- plumbing -----------------------------------------------------------------------------------
    @property
    def shown(self) -> str:
        """``var/desk.sqlite`` as operators know it (the absolute path goes into the details)."""
        return f"{self.path.parent.name}/{self.path.name}" if self.path.parent.name == "var" else str(self.path)

    def _error(self, exc: BaseException) -> DeskUnavailable:
        if _disk_full(exc):
            return DeskUnavailable(f"the desk state {self.shown} cannot be written: the disk is full ({exc}); "
                                   "nothing was changed (it is not corrupt: free space and try again)",
                                   details=[f"file: {self.path}"])
        if "locked" in str(exc) or "busy" in str(exc):
            return DeskUnavailable(f"the desk state {self.shown} stayed locked by another peaktrade process for "
                                   f"{self._timeout:g} s ({exc}); try again")
        return DeskUnavailable(f"the desk state {self.shown} cannot be read ({type(exc).__name__}: {exc})",
                               details=[f"file: {self.path}",
                                        "every order path fails closed while it is unreadable; the runs' own "
                                        "files under live_runs/ are intact",
                                        "restore it from a backup, or recreate it engaged: peaktrade desk migrate "
                                        "--recreate"])

    @contextmanager
    def _tx(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from None
                raise

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._con.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def _migrate(self) -> None:
        con = self._con
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DeskUnavailable(f"the desk state {self.shown} has schema version {version}, newer than this "
                                  f"peaktrade understands ({SCHEMA_VERSION}): upgrade peaktrade")
        if version == SCHEMA_VERSION:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target].split(";\n"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {target}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def application_id(self) -> int:
        return int(self._read("PRAGMA application_id")[0][0])

    def set_application_id(self, value: int) -> None:
        with self._lock:
            self._con.execute(f"PRAGMA application_id = {int(value)}")
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # into the main file's header now

    def checkpoint(self) -> None:
        """Every committed row into the main file, the write-ahead log emptied."""
        with self._lock:
            try:
                self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def pinned(self) -> tuple[int, int]:
        st = os.fstat(self._pin)
        return (st.st_dev, st.st_ino)

    def close(self) -> None:
        with self._lock:
            self._con.close()
            pin, self._pin = getattr(self, "_pin", None), None
            if pin is not None:
                os.close(pin)

    def schema_version(self) -> int:
        return int(self._read("PRAGMA user_version")[0][0])

    def change_marker(self) -> int:
        return int(self._read("PRAGMA data_version")[0][0])

    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as con:
            con.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
                        "excluded.value", (key, value))

    # -- runs ----------------------------------------------------------------------------------------
    def add_run(self, record: RunRecord) -> None:
        cols = ", ".join(RUN_COLUMNS)
        with self._tx() as con:
            con.execute(f"INSERT INTO runs ({cols}) VALUES ({', '.join('?' for _ in RUN_COLUMNS)})",
                        [getattr(record, c) for c in RUN_COLUMNS])

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._read(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE run_id = ?", (run_id,))
        return RunRecord(*rows[0]) if rows else None

    def find_run(self, *, play_id: str, step_key: str) -> RunRecord | None:
        rows = self._read(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE play_id = ? AND step_key = ? "
                          "ORDER BY created_at DESC LIMIT 1", (play_id, step_key))
        return RunRecord(*rows[0]) if rows else None

    def list_runs(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]:
        sql, args = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs", []
        if active_only:
            sql += f" WHERE status IN ({', '.join('?' for _ in RUN_ACTIVE)})"
            args += list(RUN_ACTIVE)
        sql += " ORDER BY created_at DESC, run_id DESC"
        if limit:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [RunRecord(*row) for row in self._read(sql, args)]

    def update_run(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool:
        unknown = set(changes) - set(RUN_COLUMNS)
        if unknown or "run_id" in changes:
            raise ValueError(f"cannot update {sorted(unknown | ({'run_id'} & set(changes)))}")
        sql = f"UPDATE runs SET {', '.join(f'{c} = ?' for c in changes)} WHERE run_id = ?"
        args = [*changes.values(), run_id]
        if only_if is not None:
            allowed = list(only_if)
            sql += f" AND status IN ({', '.join('?' for _ in allowed)})"
            args += allowed
        with self._tx() as con:
            return con.execute(sql, args).rowcount == 1

    # -- kill switch ---------------------------------------------------------------------------------
    _KS_COLS = "state, reason, since, by, engagement, engaged_since, recovering_until, request_id"

    def kill_switch(self) -> KillSwitchRow:
        rows = self._read(f"SELECT {self._KS_COLS} FROM kill_switch WHERE id = 1")
        if not rows:
            raise DeskUnavailable("the desk state holds no kill-switch row (deleted?): failing closed")
        row = KillSwitchRow(*rows[0])
        if row.state not in KS_STATES:
            raise DeskUnavailable(f"the desk state's kill switch is {row.state!r}, not one of "
                                  f"{', '.join(KS_STATES)}: failing closed")
        return row

    def init_kill_switch(self, row: KillSwitchRow) -> None:
        """Create the row (init, migration); an existing row is kept."""
        with self._tx() as con:
            con.execute(f"INSERT OR IGNORE INTO kill_switch (id, {self._KS_COLS}) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (row.state, row.reason, row.since, row.by, row.engagement, row.engaged_since,
                         row.recovering_until, row.request_id))

    def engage(self, *, reason: str, by: str, at: str) -> KillSwitchRow:
        with self._tx() as con:
            # an engage always wins: it applies from any state, and a missing row is recreated engaged
            n = con.execute("UPDATE kill_switch SET state = 'KILLED', reason = ?, since = ?, by = ?, "
                            "engagement = engagement + 1, engaged_since = ?, recovering_until = NULL, "
                            "request_id = NULL WHERE id = 1", (reason, at, by, at)).rowcount
            if n == 0:
                con.execute(f"INSERT INTO kill_switch (id, {self._KS_COLS}) VALUES (1, 'KILLED', ?, ?, ?, 1, ?, "
                            "NULL, NULL)", (reason, at, by, at))
        return self.kill_switch()

    def release(self, *, engagement: int, by: str, at: str, until: str, request_id: str) -> KillSwitchRow | None:
        with self._tx() as con:
            n = con.execute("UPDATE kill_switch SET state = 'RECOVERING', since = ?, by = ?, recovering_until = ?, "
                            "request_id = ? WHERE id = 1 AND state = 'KILLED' AND engagement = ?",
                            (at, by, until, request_id, engagement)).rowcount
        return self.kill_switch() if n == 1 else None

    def settle_recovery(self, *, now: str) -> None:
        with self._tx() as con:
            con.execute("UPDATE kill_switch SET state = 'ACTIVE', since = recovering_until WHERE id = 1 AND "
                        "state = 'RECOVERING' AND recovering_until IS NOT NULL AND recovering_until <= ?", (now,))

    # -- ledger --------------------------------------------------------------------------------------
    _ACC_COLS = "account, cash, realized_pnl, fees, day, day_start_equity, halted_day, halted_reason, version"

    def _ledger(self, con: Any, account: str) -> Ledger | None:
        row = con.execute(f"SELECT {self._ACC_COLS} FROM accounts WHERE account = ?", (account,)).fetchone()
        if row is None:
            return None
        ledger = Ledger(*row[:8], version=row[8])
        for sym, qty, avg, mark in con.execute(
                "SELECT symbol, quantity, avg_price, mark FROM positions WHERE account = ?", (account,)):
            ledger.positions[sym] = Position(sym, qty, avg, mark)
        return ledger

    def ledger(self, account: str) -> Ledger | None:
        with self._lock:
            try:
                return self._ledger(self._con, account)
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def ensure_account(self, account: str, *, cash: float) -> Ledger:
        with self._tx() as con:
            con.execute("INSERT OR IGNORE INTO accounts (account, cash) VALUES (?, ?)", (account, cash))
            return self._ledger(con, account)  # type: ignore[return-value]

    def _open(self, con: Any, account: str | None) -> list[Intent]:
        sql = f"SELECT {', '.join(INTENT_COLUMNS)} FROM intents WHERE status IN ({', '.join('?' for _ in INTENT_OPEN)})"
        args: list[Any] = list(INTENT_OPEN)
        if account is not None:
            sql += " AND account = ?"
            args.append(account)
        return [Intent(*row) for row in con.execute(sql + " ORDER BY created_at", args)]

    def open_intents(self, account: str | None = None) -> list[Intent]:
        with self._lock:
            try:
                return self._open(self._con, account)
            except sqlite3.Error as exc:
                raise self._error(exc) from None

    def reserve(self, intent: Intent, decide: Callable[[Ledger, list[Intent]], tuple[bool, Any]]) -> tuple[bool, Any]:
        with self._tx() as con:
            ledger = self._ledger(con, intent.account)
            if ledger is None:
                return False, "account unknown to the desk ledger"
            ok, info = decide(ledger, self._open(con, intent.account))
            if ok:
                con.execute(f"INSERT INTO intents ({', '.join(INTENT_COLUMNS)}) VALUES "
                            f"({', '.join('?' for _ in INTENT_COLUMNS)})", [getattr(intent, c) for c in INTENT_COLUMNS])
                con.execute("UPDATE accounts SET version = version + 1 WHERE account = ?", (intent.account,))
            return ok, info

    def get_intent(self, client_order_id: str) -> Intent | None:
        rows = self._read(f"SELECT {', '.join(INTENT_COLUMNS)} FROM intents WHERE client_order_id = ?",
                          (client_order_id,))
        return Intent(*rows[0]) if rows else None

    def update_intent(self, client_order_id: str, **changes: Any) -> None:
        unknown = set(changes) - set(INTENT_COLUMNS)
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        with self._tx() as con:
            con.execute(f"UPDATE intents SET {', '.join(f'{c} = ?' for c in changes)} WHERE client_order_id = ?",
                        [*changes.values(), client_order_id])
            con.execute("UPDATE accounts SET version = version + 1 WHERE account = (SELECT account FROM intents "
                        "WHERE client_order_id = ?)", (client_order_id,))

    def apply_fill(self, client_order_id: str, *, quantity: float, price: float, fee: float, at: str,
                   status: str | None = None, exchange_order_id: str | None = None) -> None:
        with self._tx() as con:
            row = con.execute("SELECT account, symbol, side, quantity, filled, avg_price, fee FROM intents "
                              "WHERE client_order_id = ?", (client_order_id,)).fetchone()
            if row is None:
                raise DeskUnavailable(f"no order intent {client_order_id} to book a fill against")
            account, symbol, side, total, filled, avg, paid = row
            new_filled, new_avg, final = fill_of_intent(total, filled, avg, quantity, price, status)
            con.execute("UPDATE intents SET filled = ?, avg_price = ?, fee = ?, status = ?, updated_at = ?, "
                        "exchange_order_id = COALESCE(?, exchange_order_id) WHERE client_order_id = ?",
                        (new_filled, new_avg, paid + fee, final, at, exchange_order_id, client_order_id))
            self._book(con, account, symbol, quantity if side == "buy" else -quantity, price, fee)

    def _book(self, con: Any, account: str, symbol: str, delta: float, price: float, fee: float) -> None:
        pos = con.execute("SELECT quantity, avg_price FROM positions WHERE account = ? AND symbol = ?",
                          (account, symbol)).fetchone()
        new_qty, new_avg, realized = book_position(*(pos or (0.0, 0.0)), delta, price)
        con.execute("INSERT INTO positions (account, symbol, quantity, avg_price, mark) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(account, symbol) DO UPDATE SET quantity = excluded.quantity, "
                    "avg_price = excluded.avg_price, mark = excluded.mark", (account, symbol, new_qty, new_avg, price))
        con.execute("UPDATE accounts SET cash = cash - ? - ?, realized_pnl = realized_pnl + ? - ?, fees = fees + ?, "
                    "version = version + 1 WHERE account = ?", (delta * price, fee, realized, fee, fee, account))

    def set_day(self, account: str, *, day: str, day_start_equity: float) -> None:
        with self._tx() as con:
            # only the first observer of a new day sets its start (a race keeps the earlier value)
            con.execute("UPDATE accounts SET day = ?, day_start_equity = ?, version = version + 1 WHERE account = ? "
                        "AND (day IS NULL OR day < ?)", (day, day_start_equity, account, day))

    def halt_day(self, account: str, *, day: str, reason: str) -> None:
        with self._tx() as con:
            con.execute("UPDATE accounts SET halted_day = ?, halted_reason = ?, version = version + 1 "
                        "WHERE account = ? AND (halted_day IS NULL OR halted_day < ?)", (day, reason, account, day))

    def set_marks(self, account: str, marks: dict[str, float]) -> None:
        with self._tx() as con:
            # a symbol without a row gets one holding no position: its mark is known before its first fill
            con.executemany("INSERT INTO positions (account, symbol, quantity, avg_price, mark) VALUES (?, ?, 0, 0, ?) "
                            "ON CONFLICT(account, symbol) DO UPDATE SET mark = excluded.mark",
                            [(account, s, m) for s, m in marks.items()])
            con.execute("UPDATE accounts SET version = version + 1 WHERE account = ?", (account,))

    def sync_account(self, account: str, *, cash: float, positions: dict[str, float],
                     marks: dict[str, float]) -> None:
        with self._tx() as con:
            con.execute("INSERT INTO accounts (account, cash) VALUES (?, ?) ON CONFLICT(account) DO UPDATE SET "
                        "cash = excluded.cash, version = version + 1", (account, cash))
            # the symbols named are set to what the exchange reports; others are left as they are
            con.executemany("INSERT INTO positions (account, symbol, quantity, avg_price, mark) VALUES (?, ?, ?, ?, ?) "
                            "ON CONFLICT(account, symbol) DO UPDATE SET quantity = excluded.quantity, "
                            "mark = COALESCE(excluded.mark, positions.mark)",
                            [(account, s, q, marks.get(s, 0.0), marks.get(s)) for s, q in positions.items()])

    # -- approvals, alerts, plays ----------------------------------------------------------------------
    def bind_approval(self, request_id: str, *, by: str, at: str) -> str:
        with self._tx() as con:
            con.execute("INSERT OR IGNORE INTO approval_use (request_id, by, at) VALUES (?, ?, ?)",
                        (request_id, by, at))
            return con.execute("SELECT by FROM approval_use WHERE request_id = ?", (request_id,)).fetchone()[0]

    def approval_use(self, request_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT by, at FROM approval_use WHERE request_id = ?", (request_id,))
        return {"by": rows[0][0], "at": rows[0][1]} if rows else None

    _ALERT_COLS = ("key, rule, run_id, severity, status, message, playbook, first_fired, last_notified, "
                   "resolved_at, notifications")

    def alert(self, key: str) -> AlertRow | None:
        rows = self._read(f"SELECT {self._ALERT_COLS} FROM alerts WHERE key = ?", (key,))
        return AlertRow(*rows[0]) if rows else None

    def put_alert(self, row: AlertRow) -> None:
        values = [getattr(row, c.strip()) for c in self._ALERT_COLS.split(",")]
        with self._tx() as con:
            con.execute(f"INSERT OR REPLACE INTO alerts ({self._ALERT_COLS}) VALUES ({', '.join('?' for _ in values)})",
                        values)

    def list_alerts(self, *, status: str | None = None, limit: int = 100) -> list[AlertRow]:
        sql, args = f"SELECT {self._ALERT_COLS} FROM alerts", []
        if status:
            sql += " WHERE status = ?"
            args.append(status)
        return [AlertRow(*r) for r in self._read(sql + " ORDER BY first_fired DESC LIMIT ?", [*args, limit])]

    _PLAY_COLS = "play_id, playbook, operator, started_at, outcome, finished_at, head, records"

    def record_play(self, row: PlayRow) -> None:
        values = [getattr(row, c.strip()) for c in self._PLAY_COLS.split(",")]
        with self._tx() as con:
            con.execute(f"INSERT OR REPLACE INTO plays ({self._PLAY_COLS}) VALUES ({', '.join('?' for _ in values)})",
                        values)

    def get_play(self, play_id: str) -> PlayRow | None:
        rows = self._read(f"SELECT {self._PLAY_COLS} FROM plays WHERE play_id = ?", (play_id,))
        return PlayRow(*rows[0]) if rows else None

    def list_plays(self, *, limit: int = 100) -> list[PlayRow]:
        return [PlayRow(*r) for r in self._read(f"SELECT {self._PLAY_COLS} FROM plays ORDER BY started_at DESC "
                                                "LIMIT ?", (limit,))]

    def dump(self) -> dict[str, Any]:
        """Everything, for `peaktrade desk status --json` and tests."""
        return json.loads(json.dumps({"schema_version": self.schema_version(),
                                      "kill_switch": self.kill_switch().__dict__}))
