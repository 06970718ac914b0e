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
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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
