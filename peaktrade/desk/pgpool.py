"""A bounded connection pool for a PostgreSQL desk state shared by threads (psycopg-pool, extra ``cluster``).

A session, an agent and a CLI command use the store from one thread: one connection serves them (a pool
per process would multiply server connections on a desk of fifty sessions and add maintenance threads).
A process that uses one store from several threads at once — the dashboard, whose requests run in a
thread pool — would queue them all behind that one connection: the first time a thread finds it busy,
the store starts this pool and serves every later call from it. Bounded (``POOL_MAX`` connections per
process), a connection idle longer than ``IDLE_PROBE_S`` is checked before it is lent (a restarted server
breaks idle connections), a client waits at most ``timeout_s`` for one (an unreachable server is then a
``DeskUnavailable``, as with one connection: fail closed), and the pool gives up reconnecting after
``RECONNECT_S`` so that the first request after the server returns reconnects at once instead of
waiting out an exponential backoff. psycopg_pool is imported here only, when a pool is started.

``ConnectionOps`` is how every call of the store gets its connection: a call inside a call of the same
thread reuses that thread's connection (a risk decision reading the kill switch inside a locked
reservation stays in its transaction); otherwise the one connection, or the pool once started.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from peaktrade.desk.store import DeskUnavailable

POOL_MAX = 4  # connections per process: the dashboard's requests are short reads
IDLE_PROBE_S = 2.0  # a connection idle longer than this is probed before use (the server may have restarted)
RECONNECT_S = 3.0  # background reconnection gives up after this; the next request starts a new attempt


class SharedPool:
    def __init__(self, url: str, kwargs: dict[str, Any], *, configure: Callable[[Any], None], timeout_s: float,
                 name: str = "peaktrade-desk", max_size: int = POOL_MAX):
        from psycopg_pool import ConnectionPool

        # the store reports an unreachable server itself (one DeskUnavailable line per failing call); the
        # pool's per-attempt warnings would repeat it on stderr of a process with no logging configured
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        self._used: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self.pool = ConnectionPool(url, kwargs=kwargs, min_size=1, max_size=max(1, max_size), open=False,
                                   timeout=timeout_s, configure=configure, check=self._check, max_idle=60.0,
                                   reconnect_timeout=RECONNECT_S, num_workers=1, name=name)
        self.pool.open(wait=False)  # the first client waits (bounded) for its connection, not the constructor

    def _check(self, con: Any) -> None:
        # a raise makes the pool discard the connection and lend another (or make a new one)
        if time.monotonic() - self._used.get(con, 0.0) > IDLE_PROBE_S:
            con.execute("SELECT 1")

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for one store call; psycopg errors (``PoolTimeout`` included) propagate."""
        con = self.pool.getconn()
        try:
            yield con
        finally:
            self._used[con] = time.monotonic()
            self.pool.putconn(con)  # a broken one is discarded and replaced in the background

    def stats(self) -> dict[str, int]:
        return self.pool.get_stats()

    def close(self) -> None:
        self.pool.close(timeout=1.0)


class ConnectionOps:
    url: str
    host_id: str
    pool_max: int
    _kwargs: dict[str, Any]
    _lock: Any  # threading.RLock: guards the one connection
    _lock_pool: threading.Lock
    _local: threading.local
    _con: Any
    _used: float
    _pool: SharedPool | None
    _pool_problem: str | None
    connect: Callable[..., Any]
    check_schema: Callable[[Any], None]
    _error: Callable[[BaseException], DeskUnavailable]

    def _drop(self) -> None:
        if self._con is not None:
            try:
                self._con.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self._con = None

    def _single(self) -> Any:
        """The one connection, probed if it was idle (a server restart breaks idle connections)."""
        con = self._con
        if con is not None and (con.closed or con.broken):
            self._drop()
        elif con is not None and time.monotonic() - self._used > IDLE_PROBE_S:
            try:
                con.execute("SELECT 1")
            except psycopg.Error:
                self._drop()
        if self._con is None:
            self._con = self.connect()
        return self._con

    @contextmanager
    def _using(self, con: Any) -> Iterator[Any]:
        self._local.con = con
        try:
            yield con
        except psycopg.Error as exc:
            raise self._error(exc) from None
        finally:
            self._local.con = None

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        held = getattr(self._local, "con", None)
        if held is not None:  # a call inside a call of this thread (a decision reading the switch): same connection
            yield held
            return
        single = False
        if self._pool is None:
            single = self._lock.acquire(blocking=self.pool_max <= 1)
            if single and self._pool is not None:  # another thread started the pool meanwhile
                self._lock.release()
                single = False
            elif not single:  # another thread holds the one connection: this process shares the store
                self._share()
        if single:
            try:
                con = self._single()
                with self._using(con):
                    yield con
            except DeskUnavailable:
                # a connection left mid-command (its server process killed while a pipeline was in flight) is
                # neither closed nor broken for psycopg, yet refuses the next query: only an idle one is kept
                con = self._con
                if con is not None and (con.closed or con.broken
                                        or con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE):
                    self._drop()
                raise
            finally:
                self._used = time.monotonic()
                if self._pool is not None:  # the pool serves every call from now on
                    self._drop()
                self._lock.release()
            return
        try:
            with self._pool.connection() as con, self._using(con):  # type: ignore[union-attr]
                yield con
        except psycopg.Error as exc:  # no connection within the pool's timeout
            if self._pool_problem:
                raise DeskUnavailable(self._pool_problem) from None
            raise self._error(exc) from None

    def _share(self) -> None:
        with self._lock_pool:
            if self._pool is not None:
                return
            try:  # only the package is optional: SharedPool itself is ours
                import psycopg_pool  # noqa: F401
            except ImportError as exc:
                raise DeskUnavailable(f"the desk state is shared by threads but psycopg-pool is not installed ({exc}): "
                                      "pip install 'peaktrade[cluster]'") from None
            self._pool = SharedPool(self.url, self._kwargs, configure=self._configure,
                                    timeout_s=float(self._kwargs["connect_timeout"]), max_size=self.pool_max,
                                    name=f"peaktrade-desk@{self.host_id}")

    def _configure(self, con: Any) -> None:
        """Every pooled connection is checked against the schema, as the one connection is."""
        try:
            self.check_schema(con)
        except DeskUnavailable as exc:
            self._pool_problem = str(exc)
            raise psycopg.OperationalError(str(exc)) from None
        self._pool_problem = None

