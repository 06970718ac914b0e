"""Plain-text rendering of the monitor views (fixed-width tables an operator can read in a terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# HOST: where the run is pinned or claimed on a desk on several hosts ("-" on a one-host desk)
OVERVIEW_COLUMNS = (("run_id", "RUN ID"), ("host", "HOST"), ("mode", "MODE"), ("strategy", "STRATEGY"),
                    ("symbol", "SYMBOL"), ("timeframe", "TF"), ("active", "ACTIVE"), ("last_event", "LAST EVENT"),
                    ("equity", "EQUITY"), ("pnl", "PNL"), ("drawdown", "DRAWDOWN"))
EVENT_COLUMNS = (("step", "STEP"), ("ts_event", "TIME"), ("signal", "SIGNAL"), ("price", "PRICE"),
                 ("equity", "EQUITY"), ("pnl", "PNL"), ("orders", "ORDERS g/f/r/b"), ("error", "ERROR"))


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("drawdown", "max_drawdown"):
        return f"{value * 100:.2f}%"
    if key == "active":
        return value if isinstance(value, str) else "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    cells = [[title for _, title in columns]] + [[fmt(k, r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def overview_text(rows: Sequence[dict[str, Any]], *, include_inactive: bool) -> str:
    if not rows:
        return "no runs" if include_inactive else "no active runs (use --include-inactive to see finished runs)"
    # a crashed or lost run says so where "no" would read as "ended in order"
    shown = [{**r, "active": str(r["status"]).upper()} if r.get("status") in ("crashed", "lost") else r
             for r in rows]
    warnings = [f"! {r['attention']}" for r in rows if r.get("attention")]
    return "\n".join([table(shown, OVERVIEW_COLUMNS), *warnings])


def event_row(e: dict[str, Any]) -> dict[str, Any]:
    pnl = None
    if isinstance(e.get("realized_pnl"), (int, float)) and isinstance(e.get("unrealized_pnl"), (int, float)):
        pnl = e["realized_pnl"] + e["unrealized_pnl"]
    orders = "/".join(str(e.get(k) or 0) for k in ("orders_generated", "orders_filled", "orders_rejected",
                                                   "orders_blocked"))
    return {**e, "pnl": pnl, "orders": orders, "error": (str(e.get("error"))[:40] if e.get("error") else None)}


def events_text(events: Sequence[dict[str, Any]], *, header: bool = True) -> str:
    text = table([event_row(e) for e in events], EVENT_COLUMNS)
    return text if header else "\n".join(text.splitlines()[1:])


def detail_text(detail: dict[str, Any]) -> str:
    run, m = detail["run"], detail["metrics"]
    lines = [f"Run {run['run_id']}",
             f"  mode {fmt('', run['mode'])}, strategy {fmt('', run['strategy'])}, symbol {fmt('', run['symbol'])}, "
             f"timeframe {fmt('', run['timeframe'])}, active {fmt('active', run['active'])}",
             f"  started {fmt('', run['started_at'])}, ended {fmt('', run['ended_at'])}",
             "Metrics",
             f"  events {m['events']} (first {fmt('', m['first_event'])}, last {fmt('', m['last_event'])})",
             f"  equity {fmt('', m['equity'])} (start {fmt('', m['start_equity'])}, peak {fmt('', m['peak_equity'])})",
             f"  pnl {fmt('', m['pnl'])} (realized {fmt('', m['realized_pnl'])}, "
             f"unrealized {fmt('', m['unrealized_pnl'])})",
             f"  drawdown {fmt('drawdown', m['drawdown'])} (max {fmt('max_drawdown', m['max_drawdown'])})",
             f"  orders generated {m['orders_generated']}, filled {m['orders_filled']}, rejected "
             f"{m['orders_rejected']}, blocked {m['orders_blocked']}; error events {m['error_events']}",
             f"Last {len(detail['last_events'])} events"]
    if detail["last_events"]:
        lines.append(events_text(detail["last_events"]))
    return "\n".join(lines)
