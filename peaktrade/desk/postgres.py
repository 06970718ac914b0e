"""The desk state on PostgreSQL (DESIGN 11): one store for a desk on several hosts (extra ``cluster``).

The same methods and semantics as ``SqliteDesk``; every transition that must be atomic is one
transaction or statement: the kill switch is one conditional update that NOTIFYs, a reservation commits
with one compare-and-set statement on the account's version (``pgledger``), an approval is bound by one
``INSERT … ON CONFLICT DO NOTHING``. One connection per process, behind a lock (sessions, agents and
commands are single threaded); a process whose threads use the store at once (the dashboard) gets a
bounded pool the first time one thread finds that connection busy (``pgpool``). Connections are re-made
on demand, and every network wait is bounded (``connect_timeout``, ``tcp_user_timeout``, the pool's
timeout), so an unreachable server is a ``DeskUnavailable`` within seconds: every order path then fails
closed. psycopg is imported here only (SQLite desks never need it).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from peaktrade.desk.pgcluster import ClusterOps
from peaktrade.desk.pgledger import LedgerOps
from peaktrade.desk.pgpool import POOL_MAX, ConnectionOps, SharedPool
from peaktrade.desk.pgrecords import RecordOps
from peaktrade.desk.pgschema import KS_CHANNEL, MIGRATE_LOCK, MIGRATIONS, display_url
from peaktrade.desk.pgwatch import PendingEngage, Watcher
from peaktrade.desk.store import (
    KS_STATES,
    SCHEMA_VERSION,
    DeskUnavailable,
    KillSwitchRow,
)

_KS = 'state, reason, since, "by", engagement, engaged_since, recovering_until, request_id'


def _marks(n: int) -> str:
    return ", ".join("%s" for _ in range(n))


class PostgresDesk(ConnectionOps, RecordOps, LedgerOps, ClusterOps):
    backend = "postgresql"

    def __init__(self, url: str, *, password: str | None = None, var_dir: Path | None = None, host_id: str = "",
                 connect_timeout_s: int = 2, io_timeout_s: float = 1.5, pool_max: int = POOL_MAX):
        self.url, self.shown, self.host_id = url, display_url(url), host_id
        self._kwargs: dict[str, Any] = {
            "autocommit": True, "connect_timeout": max(2, int(connect_timeout_s)),
            # a silent partition fails a query within io_timeout_s instead of TCP's minutes
            "tcp_user_timeout": int(io_timeout_s * 1000), "keepalives": 1, "keepalives_idle": 2,
            "keepalives_interval": 1, "keepalives_count": 2,
            "application_name": f"peaktrade@{host_id}"[:63],
            "options": "-c statement_timeout=15000 -c lock_timeout=10000",
        }
        if password:
            self._kwargs["password"] = password
        self._lock = threading.RLock()  # guards the one connection
        self._lock_pool = threading.Lock()  # starting the pool (taken while another thread holds the connection)
        self._con: Any = None
        self._used = 0.0
        self._local = threading.local()  # the connection this thread is using (a nested call reuses it)
        self.pool_max = pool_max  # 0 or 1: never a pool, threads queue for the one connection
        self._pool: SharedPool | None = None
        self._pool_problem: str | None = None
        self.reservations: Counter[str] = Counter()
        self._contended: dict[str, float] = {}
        self._ks_reads = 0
        self._watcher: Watcher | None = None
        self.pending = PendingEngage(var_dir, host_id) if var_dir is not None else None

    # -- plumbing -----------------------------------------------------------------------------------
    def _error(self, exc: BaseException) -> DeskUnavailable:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return DeskUnavailable(f"the desk state {self.shown} is unreachable or refused the request ({first})",
                               details=["every order path fails closed while it is unreachable (the kill switch "
                                        "reads engaged)", "check the server and the network, then: peaktrade desk "
                                        "status"])

    def connect(self, *, check_schema: bool = True) -> Any:
        try:
            con = psycopg.connect(self.url, **self._kwargs)
        except psycopg.Error as exc:
            raise self._error(exc) from None
        if check_schema:
            try:
                self.check_schema(con)
            except DeskUnavailable:
                con.close()
                raise
        return con

    def check_schema(self, con: Any) -> None:
        try:
            version = self._version(con)
        except psycopg.Error as exc:
            raise self._error(exc) from None
        if version > SCHEMA_VERSION:
            raise DeskUnavailable(f"the desk state {self.shown} has schema version {version}, newer than "
                                  f"this peaktrade understands ({SCHEMA_VERSION}): upgrade peaktrade")
        if version < SCHEMA_VERSION:
            raise DeskUnavailable(f"the desk state {self.shown} has schema version {version}, this peaktrade "
                                  f"needs {SCHEMA_VERSION}: run `peaktrade desk migrate`")

    @staticmethod
    def _version(con: Any) -> int:
        row = con.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
        if not row[0]:
            return 0
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def _tx(self, *, pipeline: bool = False) -> Iterator[Any]:
        """One transaction. ``pipeline``: statements are sent without waiting for each other's replies
        until a result is read (BEGIN goes with the first ones, COMMIT with the last): fewer round trips
        while a row lock is held."""
        if not pipeline:
            with self._conn() as con, con.transaction():
                yield con
            return
        with self._conn() as con, con.pipeline(), con.transaction():
            yield con

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._conn() as con:
            return con.execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
        with self._lock_pool:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        with self._lock:
            self._drop()

    # -- schema -------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self._lock:
            con = self.connect(check_schema=False)
            try:
                return self._version(con)
            finally:
                con.close()

    def migrate(self, *, recreate: bool = False, by: str = "", at: str = "") -> tuple[int, int]:
        """Bring the schema to SCHEMA_VERSION (one transaction, under an advisory lock): (before, after).
        ``recreate`` drops every table first and starts with the kill switch engaged."""
        if max(MIGRATIONS) < SCHEMA_VERSION:
            raise DeskUnavailable(f"this peaktrade has no PostgreSQL migration to schema version {SCHEMA_VERSION}")
        con = self.connect(check_schema=False)
        try:
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
                if recreate:
                    con.execute("DROP TABLE IF EXISTS meta, runs, kill_switch, accounts, positions, intents, "
                                "approval_use, alerts, plays, agents, artifacts CASCADE")
                before = self._version(con)
                if before > SCHEMA_VERSION:
                    raise DeskUnavailable(f"the desk state {self.shown} has schema version {before}, newer than "
                                          f"this peaktrade understands ({SCHEMA_VERSION}): upgrade peaktrade")
                for target in range(before + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[target].split(";\n"):
                        if statement.strip():
                            con.execute(statement)
                    con.execute("INSERT INTO meta (key, value) VALUES ('schema_version', %s) ON CONFLICT (key) DO "
                                "UPDATE SET value = excluded.value", (str(target),))
                if before == 0:
                    ks = (KillSwitchRow("KILLED", "desk state recreated (peaktrade desk migrate --recreate)", at, by, 1,
                                        at) if recreate else KillSwitchRow("ACTIVE"))
                    con.execute(f"INSERT INTO kill_switch (id, {_KS}) VALUES (1, {_marks(8)}) ON CONFLICT DO NOTHING",
                                (ks.state, ks.reason, ks.since, ks.by, ks.engagement, ks.engaged_since, None, None))
                    con.execute("INSERT INTO meta (key, value) VALUES ('created_at', %s) ON CONFLICT DO NOTHING", (at,))
                    con.execute(f"NOTIFY {KS_CHANNEL}")
            return before, SCHEMA_VERSION
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            con.close()

    def change_marker(self) -> int:
        return int(self._read("SELECT COALESCE(SUM(version), 0) FROM accounts")[0][0])

    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as con:
            con.execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = "
                        "excluded.value", (key, value))

    # -- kill switch ---------------------------------------------------------------------------------
    @staticmethod
    def _ks_row(con: Any) -> KillSwitchRow:
        row = con.execute(f"SELECT {_KS} FROM kill_switch WHERE id = 1").fetchone()
        if row is None:
            raise DeskUnavailable("the desk state holds no kill-switch row (deleted?): failing closed")
        ks = KillSwitchRow(*row)
        if ks.state not in KS_STATES:
            raise DeskUnavailable(f"the desk state's kill switch is {ks.state!r}, not one of {', '.join(KS_STATES)}: "
                                  "failing closed")
        return ks

    def kill_switch(self) -> KillSwitchRow:
        if self.pending is not None:
            doc = self.pending.read()
            if doc is not None:  # engaged here while cut off: push it, or keep reading it engaged
                try:
                    return self._engage(str(doc["reason"]), str(doc.get("by") or "?"), str(doc.get("at") or ""),
                                        pushed=doc)
                except DeskUnavailable:
                    return self.pending.row(doc)
        watched = self._watcher.fresh() if self._watcher is not None else None
        if watched is not None:
            return watched
        with self._conn() as con:
            row = self._ks_row(con)
        self._ks_reads += 1
        if self._ks_reads == 2 and self._watcher is None:
            # a process that reads the switch again (a session, an agent) gets a listener; a one-shot command not
            self._watcher = Watcher(self.connect, self._ks_row, KS_CHANNEL)
        return row

    def watch(self) -> Watcher:
        """The LISTEN/NOTIFY watcher of this process (started if needed)."""
        if self._watcher is None:
            self._watcher = Watcher(self.connect, self._ks_row, KS_CHANNEL)
        return self._watcher

    def _changed(self, row: KillSwitchRow) -> KillSwitchRow:
        if self._watcher is not None:
            self._watcher.put(row)
        return row

    def init_kill_switch(self, row: KillSwitchRow) -> None:
        with self._tx() as con:
            con.execute(f"INSERT INTO kill_switch (id, {_KS}) VALUES (1, {_marks(8)}) ON CONFLICT DO NOTHING",
                        (row.state, row.reason, row.since, row.by, row.engagement, row.engaged_since,
                         row.recovering_until, row.request_id))

    def _engage(self, reason: str, by: str, at: str, pushed: dict[str, Any] | None = None) -> KillSwitchRow:
        with self._tx() as con:
            # an engage always wins: it applies from any state, and a missing row is recreated engaged
            row = con.execute(f"UPDATE kill_switch SET state = 'KILLED', reason = %s, since = %s, \"by\" = %s, "
                              "engagement = engagement + 1, engaged_since = %s, recovering_until = NULL, "
                              f"request_id = NULL WHERE id = 1 RETURNING {_KS}", (reason, at, by, at)).fetchone()
            if row is None:
                row = con.execute(f"INSERT INTO kill_switch (id, {_KS}) VALUES (1, 'KILLED', %s, %s, %s, 1, %s, NULL, "
                                  f"NULL) RETURNING {_KS}", (reason, at, by, at)).fetchone()
            con.execute(f"NOTIFY {KS_CHANNEL}")
        if pushed is not None and self.pending is not None:
            self.pending.clear()
        return self._changed(KillSwitchRow(*row))

    def engage(self, *, reason: str, by: str, at: str) -> KillSwitchRow:
        try:
            return self._engage(reason, by, at)
        except DeskUnavailable:
            if self.pending is None:
                raise
            self.pending.write(reason=reason, by=by, at=at)  # this host's sessions read it at once
            return self.pending.row({"reason": reason, "by": by, "at": at})

    def release(self, *, engagement: int, by: str, at: str, until: str, request_id: str) -> KillSwitchRow | None:
        with self._tx() as con:
            row = con.execute(f"UPDATE kill_switch SET state = 'RECOVERING', since = %s, \"by\" = %s, "
                              "recovering_until = %s, request_id = %s WHERE id = 1 AND state = 'KILLED' AND "
                              f"engagement = %s RETURNING {_KS}", (at, by, until, request_id, engagement)).fetchone()
            if row is not None:
                con.execute(f"NOTIFY {KS_CHANNEL}")
        return self._changed(KillSwitchRow(*row)) if row is not None else None

    def settle_recovery(self, *, now: str) -> None:
        with self._tx() as con:
            n = con.execute("UPDATE kill_switch SET state = 'ACTIVE', since = recovering_until WHERE id = 1 AND "
                            "state = 'RECOVERING' AND recovering_until IS NOT NULL AND recovering_until <= %s",
                            (now,)).rowcount
            if n:
                con.execute(f"NOTIFY {KS_CHANNEL}")

    def dump(self) -> dict[str, Any]:
        return {"schema_version": self.schema_version(), "kill_switch": self.kill_switch().__dict__}
