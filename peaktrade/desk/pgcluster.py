"""Agents, claims and artifacts on the PostgreSQL desk state (DESIGN 11).

* a claim is one statement: ``UPDATE … WHERE run_id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)``, so
  agents claiming at once never wait for each other and never get the same run;
* an agent's lease is a session-level advisory lock on its own connection, keyed by its host id: a
  second agent for the host is refused, and the lock goes with the connection if the agent dies;
* heartbeats are stamped and aged by the server's clock, never by the hosts' clocks.
"""

from __future__ import annotations

import zlib
from typing import Any

from peaktrade.desk.pgschema import AGENT_LOCK_BASE, RUN_CHANNEL
from peaktrade.desk.store import RUN_ACTIVE, RUN_COLUMNS, AgentRow, ArtifactRow, RunRecord

_RUNS = ", ".join(f'"{c}"' for c in RUN_COLUMNS)
_ART = "owner, kind, name, url, sha256, size, host, uploaded_at"
_ISO = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"


def lock_key(host: str) -> int:
    return zlib.crc32(host.encode("utf-8")) & 0x7FFFFFFF


class _Lease:
    def __init__(self, con: Any):
        self.con = con

    def alive(self) -> bool:
        try:
            self.con.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - a broken lease connection means the lock is gone
            return False

    def close(self) -> None:
        try:
            self.con.close()  # ends the session: the advisory lock goes with it
        except Exception:  # noqa: BLE001
            pass


class ClusterOps:
    _tx: Any
    _read: Any
    connect: Any

    def queue_run(self, run_id: str, *, host: str) -> bool:
        with self._tx() as con:
            n = con.execute("UPDATE runs SET queued = TRUE, host = %s WHERE run_id = %s AND status = 'starting' AND "
                            "pid IS NULL", (host, run_id)).rowcount
            con.execute(f"NOTIFY {RUN_CHANNEL}")  # wakes the agents at once
        return n == 1

    def claim_runs(self, host: str, *, limit: int, at: str) -> list[RunRecord]:
        with self._tx() as con:
            rows = con.execute(
                f"UPDATE runs SET queued = FALSE, host = %s, claimed_at = %s WHERE run_id IN (SELECT run_id FROM runs "
                "WHERE queued AND status IN ('starting', 'stopping') AND host IN (%s, '') ORDER BY created_at "
                f"FOR UPDATE SKIP LOCKED LIMIT %s) RETURNING {_RUNS}", (host, at, host, limit)).fetchall()
        return sorted((RunRecord(*r) for r in rows), key=lambda r: (r.created_at, r.run_id))

    def agent_lease(self, host: str) -> Any:
        con = self.connect()
        ok = con.execute("SELECT pg_try_advisory_lock(%s, %s)", (AGENT_LOCK_BASE, lock_key(host))).fetchone()[0]
        if not ok:
            con.close()
            return None
        return _Lease(con)

    def heartbeat(self, host: str, *, pid: int, at: str, note: str = "") -> str:
        with self._tx() as con:
            row = con.execute("SELECT status, pid FROM agents WHERE host_id = %s FOR UPDATE", (host,)).fetchone()
            fresh = row is None or row[1] != pid or row[0] != "up"
            con.execute("INSERT INTO agents (host_id, pid, started_at, heartbeat_at, status, note) VALUES "
                        "(%s, %s, now(), now(), 'up', %s) ON CONFLICT (host_id) DO UPDATE SET pid = excluded.pid, "
                        "started_at = CASE WHEN %s THEN now() ELSE agents.started_at END, heartbeat_at = now(), "
                        "status = 'up', note = excluded.note", (host, pid, note, fresh))
            return row[0] if row else "new"

    def agent_down(self, host: str, *, at: str) -> None:
        with self._tx() as con:
            con.execute("UPDATE agents SET status = 'stopped', heartbeat_at = now() WHERE host_id = %s AND "
                        "status = 'up'", (host,))

    def list_agents(self) -> list[AgentRow]:
        rows = self._read(f"SELECT host_id, pid, {_ISO.format('started_at')}, {_ISO.format('heartbeat_at')}, status, "
                          "note, EXTRACT(EPOCH FROM now() - heartbeat_at)::float FROM agents ORDER BY host_id")
        return [AgentRow(*r[:6], age_s=r[6]) for r in rows]

    def expire_agents(self, *, lost_after_s: float, at: str) -> list[RunRecord]:
        with self._tx() as con:
            hosts = [r[0] for r in con.execute(
                "UPDATE agents SET status = 'lost', note = 'no heartbeat for ' || "
                "round(EXTRACT(EPOCH FROM now() - heartbeat_at))::text || ' s' WHERE status = 'up' AND "
                "heartbeat_at < now() - make_interval(secs => %s) RETURNING host_id", (lost_after_s,)).fetchall()]
            if not hosts:
                return []
            rows = con.execute(
                "UPDATE runs SET status = 'lost', ended_at = %s, status_note = 'host ' || host || ' stopped "
                "heartbeating; never restarted automatically' WHERE host = ANY(%s) AND NOT queued AND "
                f"status = ANY(%s) RETURNING {_RUNS}", (at, hosts, list(RUN_ACTIVE))).fetchall()
        return [RunRecord(*r) for r in rows]

    def record_artifact(self, row: ArtifactRow) -> None:
        with self._tx() as con:
            con.execute(f"INSERT INTO artifacts ({_ART}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT "
                        "(owner, kind, name) DO UPDATE SET url = excluded.url, sha256 = excluded.sha256, size = "
                        "excluded.size, host = excluded.host, uploaded_at = excluded.uploaded_at",
                        (row.owner, row.kind, row.name, row.url, row.sha256, row.size, row.host, row.uploaded_at))

    def list_artifacts(self, owner: str | None = None) -> list[ArtifactRow]:
        sql, args = f"SELECT {_ART} FROM artifacts", []
        if owner is not None:
            sql += " WHERE owner = %s"
            args.append(owner)
        return [ArtifactRow(*r) for r in self._read(sql + " ORDER BY owner, kind, name", args)]
