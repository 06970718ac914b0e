"""The experiments registry: every run on disk with its key figures, and CSV export of its events."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def list_experiments(root: Root, *, limit: int | None = 20) -> list[dict[str, Any]]:
    """Newest first: run id, mode, strategy, symbol, timeframe, profile, status, times, notes, figures."""
    import sqlite3

    from peaktrade.runtime.orchestrator import Orchestrator
    from peaktrade.runtime.registry import RegistryUnavailable

    statuses = {}
    try:
        statuses = {r.run_id: r.status for r in Orchestrator(root).status()}
    except (OSError, sqlite3.Error, RegistryUnavailable):
        pass  # a read-only or damaged var/: list from the run logs alone (read_meta still spots crashes)
    dirs = list(reversed(runlog.list_run_dirs(root)))
    if limit:
        dirs = dirs[:limit]
    rows = []
    for d in dirs:
        meta = runlog.read_meta(d)
        row = {k: meta.get(k) for k in ("run_id", "mode", "strategy", "symbol", "timeframe", "profile",
                                        "started_at", "ended_at", "notes")}
        row["status"] = statuses.get(d.name, meta.get("status"))
        row.update(key_figures(d, meta))
        rows.append(row)
    return rows


def export_csv(root: Root, run_id: str, path: Path) -> int:
    """Write the run's events to ``path`` (CSV, one row per event); returns the number of rows."""
    run_dir = runlog.run_dir(root, run_id)
    if not (run_dir / runlog.META_FILE).is_file():
        raise UsageError(f"unknown run id {run_id!r} (see 'peaktrade experiments list')")
    frame = runlog.read_events_frame(run_dir)
    frame["risk_reasons"] = frame["risk_reasons"].map(lambda r: "; ".join(r) if r is not None else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return len(frame)
