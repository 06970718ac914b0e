"""The runs table, kept warm between polls: ``monitor overview --include-inactive`` row by row, each row
recomputed only when its run's files changed.

``monitor overview`` re-reads every ``meta.json`` and consults the registry on every call (a CLI call
is a fresh process). A server answers the same question every few seconds for every open browser, so
it keeps each run's meta and summary with the size and mtime of ``meta.json``, ``events.parquet`` and
``events.jsonl``: an unchanged run costs three ``stat`` calls. Everything else is the monitor's own
code (``read_meta``, ``SummaryCache.folds``, ``summary_row``, ``is_active``), so the page and the CLI
agree. A run marked active with a pid is re-read every time: its process may have died without
touching a file (the runtime's ``read_meta`` then reads it as crashed).

On a desk on several hosts the table is the desk's, as in ``monitor overview``: the runs of the other hosts
come from ``monitor.hosts.remote_runs`` (the desk state; a closed run's figures from its verified copy in
object storage), asked again only for a run whose desk record changed, whose copy's files changed, or (no
usable copy yet, or one that could not be verified) at most every ``RECHECK_S``; an active run of another host
shows no figures (its log is on its host). Each row says its ``host`` (None on a one-host desk).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from peaktrade.artifacts.s3 import elsewhere
from peaktrade.desk.store import RunRecord
from peaktrade.monitor.columns import parse_ts_ns, read_columns
from peaktrade.monitor.crashed import read_ack
from peaktrade.monitor.hosts import remote_runs, this_host
from peaktrade.monitor.runs import is_active, read_meta, run_dirs
from peaktrade.monitor.summary import Fold, SummaryCache, summary_row
from peaktrade.root import Root

ACTIVE = ("starting", "running", "stopping")
RECHECK_S = 5.0  # another host's closed run without a verified copy (yet), or a desk-state acknowledgement
Sig = tuple[Any, ...]


class Remote:
    """What ``remote_runs`` said of one run of another host, and the desk record and copy files it was said of."""

    __slots__ = ("at", "copy_sig", "error", "meta", "path", "record")

    def __init__(self, record: RunRecord, path: Path | None, meta: dict[str, Any], error: str | None) -> None:
        self.record, self.path, self.meta, self.error = record, path, meta, error
        self.at = time.monotonic()
        self.copy_sig = _sigs(str(path)) if path is not None else None

    def fresh(self, rec: RunRecord, now: float) -> bool:
        if rec != self.record:  # dataclass equality: every field (astuple deep-copies: 10x slower)
            return False
        if self.path is not None:  # a verified copy: verified again only if its files changed here
            return _sigs(str(self.path)) == self.copy_sig
        return rec.active or now - self.at < RECHECK_S


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class RunIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Sig, dict[str, Any], Fold]] = {}
        self._blocked: dict[str, tuple[Sig, float]] = {}
        self._dirs: dict[str, Path] = {}
        self._rows: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._remote: dict[str, Remote] = {}
        self._acks: dict[str, float] = {}  # run id -> when the desk state last had no acknowledgement of it
        self._acked: set[str] = set()  # acknowledged in the desk state (an acknowledgement is never withdrawn)

    def rows(self, root: Root, records: dict[str, RunRecord] | None) -> list[dict[str, Any]]:
        """One summary row per run (newest first), as ``monitor.views.overview(include_inactive=True)``;
        ``records``: the desk's run records (None when they could not be read: meta.json decides)."""
        records = records or {}
        registry = {k: rec.active for k, rec in records.items()} if records else None
        with self._lock:  # two browsers polling at once: one recomputation, not two
            here = this_host(root) if records else ""
            # a meta.json this host queued a run of another host with is not that run's log (its row: remote)
            dirs = {d.name: d for d in run_dirs(root)}  # Path.name is not free either: taken once
            dirs = {name: d for name, d in dirs.items() if not elsewhere(records.get(name), here, d)}
            remote = self._remote_runs(root, records, set(dirs))
            # plain strings: pathlib's joins cost more than the stat calls themselves (1,000 runs x 3)
            sigs: dict[str, Sig] = {name: _sigs(str(d)) for name, d in dirs.items()}
            for rid, r in remote.items():
                sigs[rid] = (r.record, r.copy_sig, r.error)
            self._dirs = dirs | {rid: r.path for rid, r in remote.items() if r.path is not None}
            stale = [name for name in sigs if (hit := self._entries.get(name)) is None or hit[0] != sigs[name]
                     or (name not in remote and _watch_process(hit[1]))]
            if stale:
                cache = SummaryCache(root.var_dir / "cache" / "monitor-summaries.json")
                folds = cache.folds([self._dirs[n] for n in stale if n in self._dirs])
                for name in stale:
                    meta = remote[name].meta if name in remote else read_meta(self._dirs[name])
                    self._entries[name] = (sigs[name], meta, folds.get(name, Fold()))
                cache.save(set(self._dirs))
            for gone in set(self._entries) - set(sigs):
                del self._entries[gone]
                self._rows.pop(gone, None)
                self._blocked.pop(gone, None)
            rows = [self._row(name, registry) for name in sigs]
            for row in rows:
                r = remote.get(row["run_id"])
                rec = records.get(row["run_id"])
                row.update(host=(rec.host if rec else None) or None, remote=r is not None,
                           copy_error=r.error if r else None, figures=r is None or r.path is not None)
                if not row["figures"]:  # its log is on its host (active) or its copy is not usable: no figures
                    row["events"] = None
        rows.sort(key=lambda r: (r["last_event"] or r["started_at"] or "", r["run_id"] or ""), reverse=True)
        return rows

    def _remote_runs(self, root: Root, records: dict[str, RunRecord], local: set[str]) -> dict[str, Remote]:
        """The other hosts' runs, through the monitor's reader, asked only about runs whose answer may have changed."""
        now = time.monotonic()
        keep = {rid: r for rid, r in self._remote.items()
                if rid in records and rid not in local and r.fresh(records[rid], now)}
        ask = {rid: rec for rid, rec in records.items() if rid not in keep}
        if ask:
            for path, meta, error in remote_runs(root, ask, local, include_inactive=True):
                rid = meta["run_id"]
                keep[rid] = Remote(records[rid], path, meta, error)
        self._remote = keep
        return keep

    def _row(self, name: str, registry: dict[str, bool] | None) -> dict[str, Any]:
        """The summary row (a fresh copy: callers add to it), rebuilt when the run or its activity changed."""
        sig, meta, fold = self._entries[name]
        active = is_active(meta, registry)
        hit = self._rows.get(name)
        if hit is None or hit[0] != (sig, active):
            row = summary_row(meta, fold, active)
            row["newest_ns"] = parse_ts_ns(row["last_event"]) or parse_ts_ns(row["started_at"])
            row["meta_status"] = meta.get("status")
            hit = self._rows[name] = ((sig, active), row)
        return dict(hit[1])

    def run_dir(self, run_id: str) -> Path | None:
        """The folder the row's figures come from (this host's, or a verified copy); None without figures."""
        return self._dirs.get(run_id)

    def acknowledged(self, root: Root, run_id: str) -> bool:
        """``runs ack`` was run for this run: its ack.json (read every time), else the desk state's copy of the
        acknowledgement (a desk on several hosts), asked at most every RECHECK_S per run."""
        if run_id in self._acked or read_ack(self._dirs.get(run_id)) is not None:
            return True
        last = self._acks.get(run_id)
        if last is not None and time.monotonic() - last < RECHECK_S:
            return False
        if read_ack(None, root, run_id) is not None:
            self._acked.add(run_id)
            return True
        self._acks[run_id] = time.monotonic()
        return False

    def orders_blocked(self, run_id: str) -> float:
        """Blocked orders over the run's events (what ``monitor run`` sums), recomputed when its files change;
        for a run of the last ``rows`` call."""
        import numpy as np

        run_dir = self._dirs.get(run_id)
        if run_dir is None:
            return 0.0
        sig = self._entries[run_id][0]  # as stat'ed by the rows() call this scrape made
        hit = self._blocked.get(run_id)
        if hit is not None and hit[0] == sig:
            return hit[1]
        try:
            total = float(np.nansum(read_columns(run_dir, ["step", "orders_blocked"])["orders_blocked"]))
        except Exception:  # noqa: BLE001 - a run being compacted right now: counted on the next scrape
            return hit[1] if hit else 0.0
        self._blocked[run_id] = (sig, total)
        return total


def _sigs(run_dir: str) -> Sig:
    return (_stat(run_dir + "/meta.json"), _stat(run_dir + "/events.parquet"), _stat(run_dir + "/events.jsonl"))


def _watch_process(meta: dict[str, Any]) -> bool:
    return meta.get("status") in ACTIVE and bool(meta.get("pid"))


_INDEXES: dict[str, RunIndex] = {}


def index_for(root: Root) -> RunIndex:
    return _INDEXES.setdefault(str(root.path), RunIndex())
