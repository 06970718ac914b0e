"""Kill-switch freshness for the PostgreSQL desk state: the LISTEN/NOTIFY watcher and the host-local engage.

* ``Watcher``: one thread and connection per long-lived process (a session, an agent). It LISTENs on the
  kill-switch channel and re-reads the row on every notification and at least every ``poll_s``; its
  copy is used only while it was confirmed less than ``max_age_s`` ago, so a silently dead link turns
  into direct reads (which fail closed) within a second.
* ``PendingEngage``: an engage made while the store is unreachable is written to ``var/`` on this host
  (read by this host's sessions as engaged) and pushed to the store by the next read that reaches it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peaktrade.desk.store import KillSwitchRow

PENDING_FILE = "kill-switch.pending.json"


class PendingEngage:
    def __init__(self, var_dir: Path, host_id: str):
        self.path = Path(var_dir) / PENDING_FILE
        self.host_id = host_id

    def read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:  # unreadable: still engaged (fail closed)
            return {"reason": f"local engagement file unreadable ({exc})", "by": "?", "at": None}
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and doc.get("reason"):
                return doc
        except ValueError:
            pass
        return {"reason": "local engagement file corrupt (engaged)", "by": "?", "at": None}

    def write(self, *, reason: str, by: str, at: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        doc = {"reason": reason, "by": by, "at": at, "host": self.host_id}
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)  # an engage must survive a crash of this process

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def row(self, doc: dict[str, Any]) -> KillSwitchRow:
        note = (f" (engaged on host {doc.get('host') or self.host_id} while the desk state was unreachable; "
                "pushed to every host when it returns)")
        return KillSwitchRow("KILLED", str(doc.get("reason")) + note, doc.get("at"), doc.get("by"), 0, doc.get("at"))


class Watcher:
    def __init__(self, connect: Callable[[], Any], read: Callable[[Any], KillSwitchRow], channel: str,
                 *, poll_s: float = 0.5, max_age_s: float = 1.0):
        self._connect, self._read, self.channel = connect, read, channel
        self.poll_s, self.max_age_s = poll_s, max_age_s
        self._row: KillSwitchRow | None = None
        self._at = 0.0
        self._stop = threading.Event()
        self.changed = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="peaktrade-kill-switch-watch", daemon=True)
        self._thread.start()

    def fresh(self) -> KillSwitchRow | None:
        """The watched row if confirmed within ``max_age_s``, else None (read directly)."""
        row, at = self._row, self._at
        return row if row is not None and time.monotonic() - at <= self.max_age_s else None

    def put(self, row: KillSwitchRow) -> None:
        with self.changed:
            self._row, self._at = row, time.monotonic()
            self.changed.notify_all()

    def forget(self) -> None:
        self._at = 0.0

    def wait_change(self, engagement_or_state: tuple[str, int], timeout_s: float) -> KillSwitchRow | None:
        """Block until the watched (state, engagement) differs from the given one; None on timeout."""
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while True:
                row = self._row
                if row is not None and (row.state, row.engagement) != engagement_or_state:
                    return row
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def _loop(self) -> None:
        con = None
        while not self._stop.is_set():
            try:
                if con is None:
                    con = self._connect()
                    con.execute(f"LISTEN {self.channel}")
                self.put(self._read(con))
                for _ in con.notifies(timeout=self.poll_s, stop_after=1):
                    pass
            except Exception:  # noqa: BLE001 - any failure: stale copy (direct reads fail closed), reconnect
                self.forget()
                if con is not None:
                    try:
                        con.close()
                    except Exception:  # noqa: BLE001
                        pass
                con = None
                self._stop.wait(self.poll_s)
        if con is not None:
            con.close()

    def close(self) -> None:
        self._stop.set()
