"""The monitor's views (seed 10b): overview of runs, one run in detail. Library layer: data only.

Text rendering lives in ``peaktrade.monitor.render``; the CLI only wires options to these.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from peaktrade.artifacts.s3 import elsewhere
from peaktrade.monitor.columns import last_events, ns_to_iso, parse_ts_ns, read_columns
from peaktrade.monitor.crashed import describe, needs_attention
from peaktrade.monitor.hosts import remote_runs, this_host
from peaktrade.monitor.runs import active_run_ids, desk_runs, is_active, read_meta, run_dir, run_dirs
from peaktrade.monitor.summary import Fold, SummaryCache, fold_columns, starting_equity, summary_row

if TYPE_CHECKING:
    from peaktrade.root import Root

TOTALS = ("orders_generated", "orders_filled", "orders_rejected", "orders_blocked")


def overview(root: Root, *, include_inactive: bool = False, max_age_hours: float | None = None,
             now: datetime | None = None, use_cache: bool = True) -> list[dict[str, Any]]:
    """One row per run (active only unless ``include_inactive``), newest first. Crashed and lost runs
    nobody acknowledged are always shown (``attention`` says what happened and how to acknowledge).
    ``host``: where the run is pinned or claimed (None on a one-host desk). On a desk on several hosts the
    runs of the other hosts are there too, from the desk state; a closed one's figures from its verified copy
    (a copy that cannot be verified: no figures, ``attention`` says why and ``copy_error`` is set).

    ``max_age_hours`` keeps runs whose last event (or start, without events) is at most that old.
    """
    cache = SummaryCache(root.var_dir / "cache" / "monitor-summaries.json" if use_cache else None)
    records = desk_runs(root)
    registry = None if records is None else {k: rec.active for k, rec in records.items()}
    here = this_host(root)
    cutoff = None
    if max_age_hours is not None and now is not None:
        cutoff = parse_ts_ns((now - timedelta(hours=max_age_hours)).isoformat())
    shown, local = [], set()
    for d in run_dirs(root):
        rec = (records or {}).get(d.name)
        if elsewhere(rec, here, d):
            continue  # the meta.json this host queued a run of another host with: that host's row comes below
        local.add(d.name)
        meta = read_meta(d)
        active = is_active(meta, registry)
        attention = describe(meta) if needs_attention(meta, d, root) else None
        if include_inactive or active or attention:
            shown.append((d, meta, active, rec.host if rec else None, attention, None))
    for d, meta, error in remote_runs(root, records or {}, local, include_inactive=include_inactive):
        rec = (records or {})[meta["run_id"]]
        attention = f"run {rec.run_id} of host {rec.host}: {error}" if error else (
            describe(meta) if needs_attention(meta, d, root) else None)
        shown.append((d, meta, rec.active, rec.host, attention, error))
    folds = cache.folds([d for d, *_ in shown if d is not None])
    rows = []
    for d, meta, active, host, attention, error in shown:
        fold = folds[d.name] if d is not None else Fold()
        if cutoff is not None:
            newest = fold.last_ts_ns or parse_ts_ns(meta.get("started_at"))
            if newest is None or newest < cutoff:
                continue
        row = summary_row(meta, fold, active)
        row.update(host=host or None, status=meta.get("status"), attention=attention)
        if error:
            row["copy_error"] = error
        rows.append(row)
    cache.save(local | {r["run_id"] for r in rows})
    rows.sort(key=lambda r: (r["last_event"] or r["started_at"] or "", r["run_id"] or ""), reverse=True)
    return rows


def run_detail(root: Root, run_id: str, *, last: int = 10) -> dict[str, Any]:
    """Summary, metrics and the last ``last`` events of one run."""
    import numpy as np

    d = run_dir(root, run_id)
    meta = read_meta(d)
    cols = read_columns(d, ["ts_event", "equity", "realized_pnl", "unrealized_pnl", "has_error", *TOTALS])
    fold = fold_columns(cols)
    active = is_active(meta, active_run_ids(root))
    row = summary_row(meta, fold, active)

    def last_finite(name: str) -> float | None:
        v = cols[name][np.isfinite(cols[name])]
        return float(v[-1]) if len(v) else None

    metrics = {
        "events": fold.events, "last_step": fold.last_step,
        "first_event": ns_to_iso(int(cols["ts_event"][0])) if fold.events else None,
        "last_event": row["last_event"], "start_equity": starting_equity(meta, fold), "equity": fold.equity,
        "pnl": row["pnl"], "realized_pnl": last_finite("realized_pnl"), "unrealized_pnl": last_finite("unrealized_pnl"),
        "peak_equity": fold.peak, "drawdown": fold.drawdown, "max_drawdown": fold.max_drawdown,
        "error_events": int(cols["has_error"].sum()),
        **{name: int(np.nansum(cols[name])) for name in TOTALS},
    }
    return {
        "run": {k: meta.get(k) for k in ("run_id", "mode", "strategy", "symbol", "timeframe", "started_at",
                                         "ended_at", "notes")} | {"active": active},
        "metrics": metrics,
        "last_events": [_event_view(e) for e in last_events(d, last)],
    }


EVENT_FIELDS = ("step", "ts_event", "signal", "price", "position", "equity", "realized_pnl", "unrealized_pnl",
                *TOTALS, "risk_allowed", "error")


def _event_view(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in EVENT_FIELDS}
