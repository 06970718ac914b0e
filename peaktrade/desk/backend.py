"""Which backend holds the desk state: ``[desk_state] url`` in config/config.toml (DESIGN 11).

No ``url`` (the default): the embedded SQLite file. ``url = "postgresql://…"``: the PostgreSQL backend
(extra ``cluster``), its password from the environment variable ``password_env`` names (never from the
file), redacted everywhere. Only the ``[desk_state]`` table is read here (tomllib, cached by the file's
identity), so choosing the backend costs no schema check and no import of psycopg for a SQLite desk.
"""

from __future__ import annotations

import os
import socket
import threading
import tomllib
from typing import Any

from peaktrade.desk.store import DeskStore, DeskUnavailable
from peaktrade.redact import register_secret_env
from peaktrade.root import Root

_CONF: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}
_STORES: dict[tuple[str, str], DeskStore] = {}
_LOCK = threading.Lock()
HOST_ENV = "PEAKTRADE_HOST_ID"


def desk_state_config(root: Root) -> dict[str, Any]:
    """The ``[desk_state]`` table ({} when absent); a file that cannot be parsed and mentions it fails closed."""
    path = root.config_file
    try:
        st = os.stat(path)
    except OSError:
        return {}
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _CONF.get(str(path))
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        table = tomllib.loads(text).get("desk_state") or {}
    except ValueError as exc:
        if "desk_state" in text:  # a desk on PostgreSQL must never fall back to a local file
            raise DeskUnavailable(f"config/config.toml cannot be parsed to find the desk state ({exc}): failing "
                                  "closed") from None
        table = {}
    if not isinstance(table, dict):
        raise DeskUnavailable("config/config.toml: [desk_state] must be a table: failing closed")
    _CONF[str(path)] = (key, table)
    return table


def host_id(root: Root | None = None) -> str:
    """This host's id: $PEAKTRADE_HOST_ID (set by the agent for its runs), ``[desk_state] host_id``, the host name."""
    env = os.environ.get(HOST_ENV, "").strip()
    if env:
        return env
    if root is not None:
        try:
            conf = desk_state_config(root).get("host_id")
        except DeskUnavailable:
            conf = None
        if isinstance(conf, str) and conf.strip():
            return conf.strip()
    return socket.gethostname()


def cluster_url(root: Root) -> str | None:
    url = desk_state_config(root).get("url")
    return url if isinstance(url, str) and url.strip() else None


def open_postgres(root: Root, url: str) -> DeskStore:
    key = (str(root.path), url)
    with _LOCK:
        store = _STORES.get(key)
        if store is not None:
            return store
        conf = desk_state_config(root)
        if not url.startswith(("postgresql://", "postgres://")):
            raise DeskUnavailable(f"config/config.toml: [desk_state] url must start with postgresql:// (got "
                                  f"{url.split(':', 1)[0]}:…): failing closed")
        password = None
        env = conf.get("password_env")
        if env:
            register_secret_env(str(env))
            password = os.environ.get(str(env))
            if not password:
                raise DeskUnavailable(f"[desk_state] password_env names {env}, which is not set in this environment: "
                                      "failing closed")
        try:  # only the driver is optional; a module of our own that fails to import is a bug, not "not installed"
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise DeskUnavailable(f"the desk state is on PostgreSQL ([desk_state] url) but psycopg is not installed "
                                  f"({exc}): pip install 'peaktrade[cluster]'") from None
        from peaktrade.desk.postgres import PostgresDesk
        store = PostgresDesk(url, password=password, var_dir=root.var_dir, host_id=host_id(root))
        _STORES[key] = store
        return store


def close_all(stores: Any) -> None:
    """Close every store given; a stale handle that fails to close fails nothing."""
    for store in stores:
        try:
            store.close()
        except Exception:  # noqa: BLE001 - closing a stale handle must not fail anything
            pass


def reset() -> None:
    with _LOCK:
        close_all(_STORES.values())
        _STORES.clear()
        _CONF.clear()
