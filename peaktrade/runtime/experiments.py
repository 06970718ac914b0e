"""The experiments registry: every run with its key figures (a desk on several hosts: the other hosts' runs from
their verified copies in object storage), and CSV export of its events."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.artifacts.s3 import configured, elsewhere, run_dir_anywhere
from peaktrade.desk import open_desk
from peaktrade.desk.backend import cluster_url, host_id
from peaktrade.desk.store import RunRecord
from peaktrade.errors import UsageError
from peaktrade.runtime import runlog

if TYPE_CHECKING:
    from peaktrade.root import Root


def _num(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def key_figures(run_dir: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Bars, orders, final equity, PnL, return and max drawdown (equity / running peak - 1)."""
    frame = runlog.read_events_frame(run_dir)
    start = _num(((meta.get("config") or {}).get("session") or {}).get("starting_cash"))
    out: dict[str, Any] = {"events": int(len(frame)), "bars": 0, "gaps": 0, "orders_generated": 0,
                           "orders_filled": 0, "orders_rejected": 0, "orders_blocked": 0, "starting_equity": start,
                           "final_equity": start, "pnl": 0.0, "return_pct": 0.0, "max_drawdown_pct": 0.0,
                           "last_event": None}
    if frame.empty:
        return out
    out["bars"] = int((frame["kind"] == "bar").sum())
    out["gaps"] = int((frame["kind"] == "gap").sum())
    for col in ("orders_generated", "orders_filled", "orders_rejected", "orders_blocked"):
        out[col] = int(frame[col].fillna(0).sum())
    equity = frame["equity"].dropna()
    if not equity.empty:
        start = start if start is not None else float(equity.iloc[0])
        final = float(equity.iloc[-1])
        peak = equity.cummax()
        out.update(starting_equity=start, final_equity=round(final, 2), pnl=round(final - start, 2),
                   return_pct=round((final / start - 1) * 100, 4) if start else 0.0,
                   max_drawdown_pct=round(float((equity / peak - 1).min()) * 100, 4))
    last = frame["ts_event"].iloc[-1]
    out["last_event"] = None if last is None or str(last) == "NaT" else last.isoformat().replace("+00:00", "Z")
    return out


FIELDS = ("run_id", "mode", "strategy", "symbol", "timeframe", "profile", "started_at", "ended_at", "notes")
FIGURES = ("events", "bars", "gaps", "orders_generated", "orders_filled", "orders_rejected", "orders_blocked",
           "starting_equity", "final_equity", "pnl", "return_pct", "max_drawdown_pct", "last_event")


def list_experiments(root: Root, *, limit: int | None = 20, run_id: str | None = None) -> list[dict[str, Any]]:
    """Newest first: run id, host, mode, strategy, symbol, timeframe, profile, status, times, notes, figures.

    On a desk on several hosts the other hosts' runs are listed too: a closed one's figures from its copy in
    object storage, verified against the desk state (a copy that differs is an error: fail closed); an active
    one, or one without a copy yet, with its record and no figures (``None``)."""
    import sqlite3

    from peaktrade.runtime.orchestrator import Orchestrator
    from peaktrade.runtime.registry import RegistryUnavailable

    records: dict[str, RunRecord] = {}
    try:
        records = {r.run_id: r for r in Orchestrator(root).status()}
    except (OSError, sqlite3.Error, RegistryUnavailable):
        pass  # a read-only or damaged var/: list from the run logs alone (read_meta still spots crashes)
    here = host_id(root) if records and cluster_url(root) else ""
    found: dict[str, Path | None] = {d.name: d for d in runlog.list_run_dirs(root)
                                     if not elsewhere(records.get(d.name), here, d)}
    for rec in records.values():  # runs of the other hosts (no folder here, or only the one that queued them)
        if rec.host and rec.host != here and rec.run_id not in found:
            found[rec.run_id] = None
    ids = sorted(found, key=lambda name: (name.split("_", 1)[-1], name), reverse=True)
    if run_id is not None:
        ids = [name for name in ids if name == run_id]
    elif limit:
        ids = ids[:limit]
    return [_row(root, name, found[name], records.get(name)) for name in ids]


def _row(root: Root, run_id: str, local: Path | None, rec: RunRecord | None) -> dict[str, Any]:
    path = local
    if path is None and rec is not None and not rec.active and configured(root) is not None:
        if open_desk(root).list_artifacts(run_id):
            path = run_dir_anywhere(root, None, run_id)  # raises when the copy cannot be verified
    meta = runlog.read_meta(path) if path is not None else {k: getattr(rec, k, None) for k in FIELDS}
    row = {k: meta.get(k) for k in FIELDS}
    row["host"] = (rec.host if rec is not None else "") or None
    row["status"] = rec.status if rec is not None else meta.get("status")
    row.update(key_figures(path, meta) if path is not None else dict.fromkeys(FIGURES))
    return row


def export_csv(root: Root, run_id: str, path: Path) -> int:
    """Write the run's events to ``path`` (CSV, one row per event); returns the number of rows. A run of
    another host: from its verified copy in object storage (``artifacts.s3.run_dir_anywhere``)."""
    run_dir = run_dir_anywhere(root, None, run_id)
    if not (run_dir / runlog.META_FILE).is_file():
        raise UsageError(f"unknown run id {run_id!r} (see 'peaktrade experiments list')")
    frame = runlog.read_events_frame(run_dir)
    frame["risk_reasons"] = frame["risk_reasons"].map(lambda r: "; ".join(r) if r is not None else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return len(frame)
