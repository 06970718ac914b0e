"""The PostgreSQL desk state's schema (DESIGN 11): versioned migrations, and how the URL is shown.

Versions follow ``peaktrade.desk.store.SCHEMA_VERSION`` (the SQLite schema), so one number means one set
of tables on either backend. Append only: a new version adds a script, never edits one. Migrations run
under a transaction-scoped advisory lock, so two hosts that start at once migrate once.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from peaktrade.desk.store import INTENT_COLUMNS, RUN_COLUMNS

MIGRATE_LOCK = 0x7065616B  # "peak": the advisory lock key that serialises migrations
AGENT_LOCK_BASE = 0x70740000  # per-host agent locks are (this, hash of the host id)
KS_CHANNEL = "peaktrade_kill_switch"
RUN_CHANNEL = "peaktrade_runs"

_INT = {"pid", "pid_start"}
_REAL = {"quantity", "price", "filled", "avg_price", "fee"}


def col_type(name: str) -> str:
    """The SQL type of a run or intent column (casts where the server cannot infer a parameter's type)."""
    return "BIGINT" if name in _INT else "DOUBLE PRECISION" if name in _REAL else "TEXT"


def _col(name: str) -> str:
    return f'"{name}" {col_type(name)}'


_V1 = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, {", ".join(_col(c) for c in RUN_COLUMNS if c != "run_id")});
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_play ON runs(play_id, step_key);
CREATE TABLE IF NOT EXISTS kill_switch (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT, reason TEXT, since TEXT,
  "by" TEXT, engagement BIGINT NOT NULL DEFAULT 0, engaged_since TEXT, recovering_until TEXT, request_id TEXT);
CREATE TABLE IF NOT EXISTS accounts (account TEXT PRIMARY KEY, cash DOUBLE PRECISION NOT NULL,
  realized_pnl DOUBLE PRECISION NOT NULL DEFAULT 0, fees DOUBLE PRECISION NOT NULL DEFAULT 0, day TEXT,
  day_start_equity DOUBLE PRECISION, halted_day TEXT, halted_reason TEXT, version BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS positions (account TEXT NOT NULL, symbol TEXT NOT NULL, quantity DOUBLE PRECISION NOT NULL,
  avg_price DOUBLE PRECISION NOT NULL DEFAULT 0, mark DOUBLE PRECISION, PRIMARY KEY (account, symbol));
CREATE TABLE IF NOT EXISTS intents (client_order_id TEXT PRIMARY KEY,
  {", ".join(_col(c) for c in INTENT_COLUMNS if c != "client_order_id")});
CREATE INDEX IF NOT EXISTS intents_open ON intents(account, status);
CREATE TABLE IF NOT EXISTS approval_use (request_id TEXT PRIMARY KEY, "by" TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (key TEXT PRIMARY KEY, rule TEXT, run_id TEXT, severity TEXT, status TEXT,
  message TEXT, playbook TEXT, first_fired TEXT, last_notified TEXT, resolved_at TEXT, notifications INTEGER);
CREATE TABLE IF NOT EXISTS plays (play_id TEXT PRIMARY KEY, playbook TEXT, operator TEXT, started_at TEXT,
  outcome TEXT, finished_at TEXT, head TEXT, records INTEGER)
"""

# heartbeats are stamped and aged by the server's clock: the hosts' clocks may disagree
_V2 = """
ALTER TABLE runs ADD COLUMN IF NOT EXISTS queued BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS claimed_at TEXT;
CREATE INDEX IF NOT EXISTS runs_queued ON runs(created_at) WHERE queued;
CREATE TABLE IF NOT EXISTS agents (host_id TEXT PRIMARY KEY, pid BIGINT, started_at TIMESTAMPTZ,
  heartbeat_at TIMESTAMPTZ, status TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS artifacts (owner TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, url TEXT,
  sha256 TEXT, size BIGINT, host TEXT, uploaded_at TEXT, PRIMARY KEY (owner, kind, name))
"""

# version -> the statements that bring the previous version to it
MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2}


def display_url(url: str) -> str:
    """The URL without a password (a password in the URL itself is replaced by ***)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://(unparsable URL)"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
