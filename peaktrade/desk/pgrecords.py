"""The run registry, approval use, alert state and play index on the PostgreSQL desk state.

Plain rows: each method is one statement (or one short transaction); the same semantics as SqliteDesk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from peaktrade.desk.store import RUN_ACTIVE, RUN_COLUMNS, AlertRow, PlayRow, RunRecord

_RUNS = ", ".join(f'"{c}"' for c in RUN_COLUMNS)
_ALERT = ("key", "rule", "run_id", "severity", "status", "message", "playbook", "first_fired", "last_notified",
          "resolved_at", "notifications")
_PLAY = ("play_id", "playbook", "operator", "started_at", "outcome", "finished_at", "head", "records")


def _marks(n: int) -> str:
    return ", ".join("%s" for _ in range(n))


def _sets(changes: dict[str, Any]) -> str:
    return ", ".join('"' + c + '" = %s' for c in changes)


class RecordOps:
    _tx: Any
    _read: Any

    # -- runs ----------------------------------------------------------------------------------------
    def add_run(self, record: RunRecord) -> None:
        with self._tx() as con:
            con.execute(f"INSERT INTO runs ({_RUNS}) VALUES ({_marks(len(RUN_COLUMNS))})",
                        [getattr(record, c) for c in RUN_COLUMNS])

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._read(f"SELECT {_RUNS} FROM runs WHERE run_id = %s", (run_id,))
        return RunRecord(*rows[0]) if rows else None

    def find_run(self, *, play_id: str, step_key: str) -> RunRecord | None:
        rows = self._read(f"SELECT {_RUNS} FROM runs WHERE play_id = %s AND step_key = %s ORDER BY created_at DESC "
                          "LIMIT 1", (play_id, step_key))
        return RunRecord(*rows[0]) if rows else None

    def list_runs(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]:
        sql, args = f"SELECT {_RUNS} FROM runs", []
        if active_only:
            sql += " WHERE status = ANY(%s)"
            args.append(list(RUN_ACTIVE))
        sql += " ORDER BY created_at DESC, run_id DESC"
        if limit:
            sql += " LIMIT %s"
            args.append(int(limit))
        return [RunRecord(*row) for row in self._read(sql, args)]

    def update_run(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool:
        unknown = set(changes) - set(RUN_COLUMNS)
        if unknown or "run_id" in changes:
            raise ValueError(f"cannot update {sorted(unknown | ({'run_id'} & set(changes)))}")
        sql = f"UPDATE runs SET {_sets(changes)} WHERE run_id = %s"
        args: list[Any] = [*changes.values(), run_id]
        if only_if is not None:
            sql += " AND status = ANY(%s)"
            args.append(list(only_if))
        with self._tx() as con:
            return con.execute(sql, args).rowcount == 1

    # -- approvals, alerts, plays ----------------------------------------------------------------------
    def bind_approval(self, request_id: str, *, by: str, at: str) -> str:
        with self._tx() as con:
            con.execute('INSERT INTO approval_use (request_id, "by", at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING',
                        (request_id, by, at))
            return con.execute('SELECT "by" FROM approval_use WHERE request_id = %s', (request_id,)).fetchone()[0]

    def approval_use(self, request_id: str) -> dict[str, Any] | None:
        rows = self._read('SELECT "by", at FROM approval_use WHERE request_id = %s', (request_id,))
        return {"by": rows[0][0], "at": rows[0][1]} if rows else None

    def alert(self, key: str) -> AlertRow | None:
        rows = self._read(f"SELECT {', '.join(_ALERT)} FROM alerts WHERE key = %s", (key,))
        return AlertRow(*rows[0]) if rows else None

    def _upsert(self, table: str, cols: tuple[str, ...], values: list[Any]) -> None:
        with self._tx() as con:
            con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_marks(len(cols))}) ON CONFLICT ({cols[0]}) "
                        f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in cols[1:])}", values)

    def put_alert(self, row: AlertRow) -> None:
        self._upsert("alerts", _ALERT, [getattr(row, c) for c in _ALERT])

    def list_alerts(self, *, status: str | None = None, limit: int = 100) -> list[AlertRow]:
        sql, args = f"SELECT {', '.join(_ALERT)} FROM alerts", []
        if status:
            sql += " WHERE status = %s"
            args.append(status)
        return [AlertRow(*r) for r in self._read(sql + " ORDER BY first_fired DESC LIMIT %s", [*args, limit])]

    def record_play(self, row: PlayRow) -> None:
        self._upsert("plays", _PLAY, [getattr(row, c) for c in _PLAY])

    def get_play(self, play_id: str) -> PlayRow | None:
        rows = self._read(f"SELECT {', '.join(_PLAY)} FROM plays WHERE play_id = %s", (play_id,))
        return PlayRow(*rows[0]) if rows else None

    def list_plays(self, *, limit: int = 100) -> list[PlayRow]:
        return [PlayRow(*r) for r in self._read(f"SELECT {', '.join(_PLAY)} FROM plays ORDER BY started_at DESC "
                                                "LIMIT %s", (limit,))]

