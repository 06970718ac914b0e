"""The runs table, kept warm between polls: ``monitor overview --include-inactive`` row by row, each row
recomputed only when its run's files changed.

``monitor overview`` re-reads every ``meta.json`` and consults the registry on every call (a CLI call
is a fresh process). A server answers the same question every few seconds for every open browser, so
it keeps each run's meta and summary with the size and mtime of ``meta.json``, ``events.parquet`` and
``events.jsonl``: an unchanged run costs three ``stat`` calls. Everything else is the monitor's own
code (``read_meta``, ``SummaryCache.folds``, ``summary_row``, ``is_active``), so the page and the CLI
agree. A run marked active with a pid is re-read every time: its process may have died without
touching a file (the runtime's ``read_meta`` then reads it as crashed).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from peaktrade.monitor.columns import parse_ts_ns, read_columns
from peaktrade.monitor.runs import is_active, read_meta, run_dirs
from peaktrade.monitor.summary import Fold, SummaryCache, summary_row
from peaktrade.root import Root

ACTIVE = ("starting", "running", "stopping")
Sig = tuple[tuple[int, int] | None, ...]


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

    def rows(self, root: Root, registry: dict[str, bool] | None) -> list[dict[str, Any]]:
        """One summary row per run (newest first), as ``monitor.views.overview(include_inactive=True)``."""
        with self._lock:  # two browsers polling at once: one recomputation, not two
            dirs = run_dirs(root)
            # plain strings: pathlib's joins cost more than the stat calls themselves (1,000 runs x 3)
            sigs = {d.name: _sigs(str(d)) for d in dirs}
            self._dirs = {d.name: d for d in dirs}
            stale = []
            for d in dirs:
                hit = self._entries.get(d.name)
                if hit is None or hit[0] != sigs[d.name] or _watch_process(hit[1]):
                    stale.append(d)
            if stale:
                cache = SummaryCache(root.var_dir / "cache" / "monitor-summaries.json")
                folds = cache.folds(stale)
                for d in stale:
                    self._entries[d.name] = (sigs[d.name], read_meta(d), folds[d.name])
                cache.save({d.name for d in dirs})
            names = set(sigs)
            for gone in set(self._entries) - names:
                del self._entries[gone]
                self._rows.pop(gone, None)
            rows = [self._row(name, registry) for name in sigs]
        rows.sort(key=lambda r: (r["last_event"] or r["started_at"] or "", r["run_id"] or ""), reverse=True)
        return rows

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

    def run_dir(self, run_id: str) -> Path:
        return self._dirs[run_id]

    def orders_blocked(self, run_id: str) -> float:
        """Blocked orders over the run's events (what ``monitor run`` sums), recomputed when its files change;
        for a run of the last ``rows`` call."""
        import numpy as np

        run_dir = self._dirs[run_id]
        sig = self._entries[run_id][0][1:]  # as stat'ed by the rows() call this scrape made
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
