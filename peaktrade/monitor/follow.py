"""``monitor follow``: show a run's state, then its new events as they are appended.

Each refresh reads only the bytes appended to ``events.jsonl`` since the last one. If the file
shrank (the runtime compacted and truncated it), reading restarts at 0 and already-shown steps
are skipped, so nothing is printed twice or lost. Ends when the run has ended and shows no new
events, after ``max_refreshes`` (tests), or on Ctrl-C (the CLI turns that into exit 0).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from peaktrade.monitor.columns import JSONL, ns_to_iso, parse_ts_ns, read_jsonl_from
from peaktrade.monitor.render import detail_text, events_text, fmt
from peaktrade.monitor.runs import active_run_ids, is_active, read_meta, run_dir
from peaktrade.monitor.summary import Fold, _complete_offset
from peaktrade.monitor.views import run_detail

if TYPE_CHECKING:
    from peaktrade.clock import Clock
    from peaktrade.root import Root


def follow(root: Root, run_id: str, *, interval: float, clock: Clock, out: Callable[[str], None] = print,
           max_refreshes: int | None = None, last: int = 10) -> int:
    d = run_dir(root, run_id)
    jsonl = d / JSONL
    offset = _complete_offset(jsonl, os.path.getsize(jsonl)) if jsonl.is_file() else 0
    detail = run_detail(root, run_id, last=last)
    out(detail_text(detail))
    m = detail["metrics"]
    fold = Fold(events=m["events"], last_step=m["last_step"],
                last_ts_ns=parse_ts_ns(m["last_event"]), first_equity=m["start_equity"], equity=m["equity"],
                peak=m["peak_equity"], max_drawdown=m["max_drawdown"] or 0.0)
    out(f"following {run_id} every {interval:g} s (Ctrl-C to stop)")
    refreshes = 0
    while max_refreshes is None or refreshes < max_refreshes:
        clock.sleep(interval)
        refreshes += 1
        if jsonl.is_file() and os.path.getsize(jsonl) < offset:
            offset = 0  # compacted and truncated: re-read, skip what was shown by step
        events, offset = read_jsonl_from(jsonl, offset)
        new = [e for e in events if _step(e) > fold.last_step]
        for e in new:
            fold.add(_step(e), parse_ts_ns(e.get("ts_event")), _float(e.get("equity")))
        active = is_active(read_meta(d), active_run_ids(root))
        if new:
            out(events_text(new, header=False))
            out(f"[{ns_to_iso(_now_ns(clock))}] active {fmt('active', active)}, events {fold.events}, "
                f"equity {fmt('', fold.equity)}, pnl {fmt('', fold.pnl)}, drawdown {fmt('drawdown', fold.drawdown)}")
        elif not active:
            out(f"run {run_id} has ended (last event {fmt('', ns_to_iso(fold.last_ts_ns))}); stopped following")
            return 0
    return 0


def _now_ns(clock: Clock) -> int:
    from peaktrade.clock import utc_iso

    return parse_ts_ns(utc_iso(clock.now())) or 0


def _step(e: dict) -> int:
    try:
        return int(e.get("step", -1))
    except (TypeError, ValueError):
        return -1


def _float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
