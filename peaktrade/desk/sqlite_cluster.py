"""Agents, queued runs and artifacts on the embedded SQLite desk (one host; the same methods as PostgreSQL).

A SQLite desk is one host, so an agent on it is the only one; its lease is a file lock in ``var/``.
Claims take the write lock first (``BEGIN IMMEDIATE``), so two agents' claims could not overlap either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from filelock import FileLock, Timeout

from peaktrade.desk.store import RUN_ACTIVE, RUN_COLUMNS, AgentRow, ArtifactRow, RunRecord

V2 = """
ALTER TABLE runs ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN claimed_at TEXT;
CREATE INDEX IF NOT EXISTS runs_queued ON runs(queued, host);
CREATE TABLE IF NOT EXISTS agents (host_id TEXT PRIMARY KEY, pid INTEGER, started_at TEXT, heartbeat_at TEXT,
  status TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS artifacts (owner TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, url TEXT,
  sha256 TEXT, size INTEGER, host TEXT, uploaded_at TEXT, PRIMARY KEY (owner, kind, name))
"""

_AGENT = "host_id, pid, started_at, heartbeat_at, status, note"
_ART = "owner, kind, name, url, sha256, size, host, uploaded_at"


def _age(at: str, heartbeat: str | None) -> float | None:
    try:
        return (datetime.fromisoformat(at.replace("Z", "+00:00"))
                - datetime.fromisoformat(str(heartbeat).replace("Z", "+00:00"))).total_seconds()
    except ValueError:
        return None


class _FileLease:
    def __init__(self, lock: FileLock):
        self._lock = lock

    def alive(self) -> bool:
        return self._lock.is_locked

    def close(self) -> None:
        self._lock.release()


class SqliteClusterOps:
    _tx: Any
    _read: Any
    path: Any

    def queue_run(self, run_id: str, *, host: str) -> bool:
        with self._tx() as con:
            return con.execute("UPDATE runs SET queued = 1, host = ? WHERE run_id = ? AND status = 'starting' AND "
                               "pid IS NULL", (host, run_id)).rowcount == 1

    def claim_runs(self, host: str, *, limit: int, at: str) -> list[RunRecord]:
        with self._tx() as con:
            ids = [r[0] for r in con.execute("SELECT run_id FROM runs WHERE queued = 1 AND status IN ('starting', "
                                             "'stopping') AND host IN (?, '') ORDER BY created_at LIMIT ?",
                                             (host, limit))]
            for run_id in ids:
                con.execute("UPDATE runs SET queued = 0, host = ?, claimed_at = ? WHERE run_id = ?", (host, at, run_id))
            return [RunRecord(*con.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE run_id = ?",
                                           (i,)).fetchone()) for i in ids]

    def agent_lease(self, host: str) -> Any:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in host)
        lock = FileLock(str(self.path.with_name(f"agent-{safe}.lock")))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return None
        return _FileLease(lock)

    def heartbeat(self, host: str, *, pid: int, at: str, note: str = "") -> str:
        with self._tx() as con:
            row = con.execute("SELECT status, pid FROM agents WHERE host_id = ?", (host,)).fetchone()
            started = at if row is None or row[1] != pid or row[0] != "up" else None
            con.execute("INSERT INTO agents (host_id, pid, started_at, heartbeat_at, status, note) VALUES "
                        "(?, ?, ?, ?, 'up', ?) ON CONFLICT(host_id) DO UPDATE SET pid = excluded.pid, "
                        "started_at = COALESCE(?, agents.started_at), heartbeat_at = excluded.heartbeat_at, "
                        "status = 'up', note = excluded.note", (host, pid, at, at, note, started))
            return row[0] if row else "new"

    def agent_down(self, host: str, *, at: str) -> None:
        with self._tx() as con:
            con.execute("UPDATE agents SET status = 'stopped', heartbeat_at = ? WHERE host_id = ? AND status = 'up'",
                        (at, host))

    def list_agents(self) -> list[AgentRow]:
        from peaktrade.clock import SYSTEM_CLOCK, utc_iso

        now = utc_iso(SYSTEM_CLOCK.now())
        rows = self._read(f"SELECT {_AGENT} FROM agents ORDER BY host_id")
        return [AgentRow(*r, age_s=_age(now, r[3])) for r in rows]

    def expire_agents(self, *, lost_after_s: float, at: str) -> list[RunRecord]:
        lost: list[RunRecord] = []
        with self._tx() as con:
            for host, beat in con.execute("SELECT host_id, heartbeat_at FROM agents WHERE status = 'up'").fetchall():
                age = _age(at, beat)
                if age is None or age <= lost_after_s:
                    continue
                con.execute("UPDATE agents SET status = 'lost' WHERE host_id = ?", (host,))
                marks = ", ".join("?" for _ in RUN_ACTIVE)
                rows = con.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE host = ? AND queued = 0 AND "
                                   f"status IN ({marks})", (host, *RUN_ACTIVE)).fetchall()
                note = f"host {host} stopped heartbeating ({age:.0f} s); never restarted automatically"
                for r in rows:
                    con.execute("UPDATE runs SET status = 'lost', status_note = ?, ended_at = ? WHERE run_id = ?",
                                (note, at, r[0]))
                    lost.append(RunRecord(*r))
        return lost

    def record_artifact(self, row: ArtifactRow) -> None:
        with self._tx() as con:
            con.execute(f"INSERT OR REPLACE INTO artifacts ({_ART}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (row.owner, row.kind, row.name, row.url, row.sha256, row.size, row.host, row.uploaded_at))

    def list_artifacts(self, owner: str | None = None) -> list[ArtifactRow]:
        sql, args = f"SELECT {_ART} FROM artifacts", []
        if owner is not None:
            sql += " WHERE owner = ?"
            args.append(owner)
        return [ArtifactRow(*r) for r in self._read(sql + " ORDER BY owner, kind, name", args)]
