"""The alert rules (seed 10c, DESIGN 6): pure, vectorised functions over numpy arrays.

Times are int64 nanoseconds since the epoch (UTC). A window of length ``w`` ending at ``end``
is the closed interval ``[end - w, end]``. Every rule returns an ``Alert`` or ``None``; the
caller decides what to do with it (notify, exit code). Exact semantics are in docs/alerts.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

WARNING = "WARNING"
CRITICAL = "CRITICAL"
NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class Alert:
    rule: str
    level: str  # WARNING | CRITICAL
    message: str
    run_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    playbook: str = ""  # the playbook an operator runs for it (`peaktrade play NAME`), see docs/alerts.md
    status: str = "firing"  # firing | resolved (a resolution is notified once, with the level it had)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(ns: int) -> str:
    from peaktrade.monitor.columns import ns_to_iso

    return ns_to_iso(int(ns)) or "?"


def pnl_drop(ts_ns: Any, equity: Any, *, threshold_pct: float, window_s: float, run_id: str = "") -> Alert | None:
    """CRITICAL when equity fell by ≥ ``threshold_pct`` % inside the window ending at the last event.

    Baseline = the first (by step order) finite equity point whose time lies inside the window;
    drop % = (baseline − last) / baseline × 100, where last = the last finite equity point.
    """
    import numpy as np

    ts = np.asarray(ts_ns, dtype=np.int64)
    eq = np.asarray(equity, dtype=np.float64)
    ok = np.isfinite(eq)
    if not ok.any():
        return None
    last_i = int(np.flatnonzero(ok)[-1])
    end = int(ts[last_i])
    start = end - int(window_s * NS_PER_S)
    inside = ok & (ts >= start) & (ts <= end)
    base_i = int(np.argmax(inside))  # first True; inside[last_i] is True, so it exists
    baseline, last = float(eq[base_i]), float(eq[last_i])
    if baseline <= 0:
        return None  # a drop relative to a non-positive equity has no meaning
    drop = (baseline - last) / baseline * 100.0
    if drop < threshold_pct:
        return None
    details = {"baseline_equity": baseline, "last_equity": last, "drop_pct": round(drop, 4),
               "threshold_pct": threshold_pct, "window_s": window_s,
               "window_start": _iso(start), "window_end": _iso(end)}
    return Alert("pnl_drop", CRITICAL,
                 f"PnL drop {drop:.2f}% ≥ {threshold_pct:g}% within {_span(window_s)} "
                 f"(equity {baseline:.2f} -> {last:.2f})", run_id, details, playbook="incident-pnl-divergence")


def no_events(last_ts_ns: int | None, now_ns: int, *, max_silence_s: float, started_ns: int | None = None,
              run_id: str = "") -> Alert | None:
    """Silence = now − last event (or − run start when there is no event yet).

    > max → WARNING, > 2 × max → CRITICAL. A run with neither events nor a start time is a
    WARNING: the monitor cannot tell how long it has been silent.
    """
    ref = last_ts_ns if last_ts_ns is not None else started_ns
    what = "last event" if last_ts_ns is not None else "run start (no events yet)"
    if ref is None:
        return Alert("no_events", WARNING, "no events and no start time: silence cannot be measured", run_id,
                     {"max_silence_s": max_silence_s}, playbook="health-check")
    silence = (now_ns - int(ref)) / NS_PER_S
    if silence <= max_silence_s:
        return None
    level = CRITICAL if silence > 2 * max_silence_s else WARNING
    details = {"silence_s": round(silence, 3), "max_silence_s": max_silence_s, "since": _iso(int(ref)),
               "now": _iso(now_ns), "reference": "last_event" if last_ts_ns is not None else "started_at"}
    return Alert("no_events", level, f"no events for {_span(silence)} since {what} (max {_span(max_silence_s)})",
                 run_id, details, playbook="health-check")


def error_spike(ts_ns: Any, rejected: Any, blocked: Any, has_error: Any, *, max_errors: int, window_s: float,
                end_ns: int | None = None, run_id: str = "", held_back: Any = None) -> Alert | None:
    """Errors inside the window ending at ``end_ns`` (default: the last event).

    errors = Σ orders_rejected + Σ orders_blocked + number of events with a non-empty ``error``;
    > max → WARNING, > 2 × max → CRITICAL. Orders held back by an engaged kill switch (``held_back``
    events) are not errors: the switch does what it was engaged for (DESIGN 6).
    """
    import numpy as np

    ts = np.asarray(ts_ns, dtype=np.int64)
    if ts.size == 0:
        return None
    end = int(ts.max()) if end_ns is None else int(end_ns)
    start = end - int(window_s * NS_PER_S)
    inside = (ts >= start) & (ts <= end)
    rej = np.nan_to_num(np.asarray(rejected, dtype=np.float64)[inside]).sum()
    counted = inside if held_back is None else inside & ~np.asarray(held_back, dtype=bool)
    blk = np.nan_to_num(np.asarray(blocked, dtype=np.float64)[counted]).sum()
    err = int(np.asarray(has_error, dtype=bool)[inside].sum())
    total = int(rej + blk) + err
    if total <= max_errors:
        return None
    level = CRITICAL if total > 2 * max_errors else WARNING
    details = {"errors": total, "orders_rejected": int(rej), "orders_blocked": int(blk), "error_events": err,
               "max_errors": max_errors, "window_s": window_s, "window_start": _iso(start), "window_end": _iso(end)}
    # mostly orders a risk limit blocked: the risk-limit runbook; rejections and exchange errors: runbook 7
    playbook = "incident-risk-limit" if blk > rej + err else "incident-exchange-error"
    return Alert("error_spike", level,
                 f"{total} errors within {_span(window_s)} > max {max_errors} "
                 f"(rejected {int(rej)}, blocked {int(blk)}, error events {err})", run_id, details, playbook=playbook)


def run_crashed(meta: dict[str, Any], *, acknowledged: bool, run_id: str = "") -> Alert | None:
    """CRITICAL while the run is crashed or lost (its process died without a clean shutdown, or its host
    stopped answering) and nobody acknowledged it (``peaktrade runs ack``)."""
    status = meta.get("status")
    if status not in ("crashed", "lost") or acknowledged:
        return None
    why = meta.get("status_note") or "its process ended without a clean shutdown"
    rid = run_id or str(meta.get("run_id", ""))
    # a live run that died may leave orders resting and a position nobody watches: stop everything first;
    # a shadow or testnet one needs a look at the desk (health check), nothing is at risk
    live = meta.get("mode") == "live" or rid.startswith("live_")
    playbook = "shutdown-emergency" if live else "health-check"
    details = {"status": status, "status_note": meta.get("status_note"), "pid": meta.get("pid"),
               "detected_at": meta.get("detected_at"), "started_at": meta.get("started_at"),
               "playbook": playbook}
    return Alert("run_crashed", CRITICAL, f"run {status}: {why} (look at it, then `peaktrade runs ack "
                                          f"--run-id {rid} --note WHY`)", rid, details, playbook=playbook)


def position_drift(drifts: list[tuple[int, str]], now_ns: int, *, window_s: float, run_id: str = "") -> Alert | None:
    """CRITICAL when the run wrote a ``drift`` event (its desk ledger differs from the exchange account,
    found by the session's periodic reconciliation) inside the window ``[now - window, now]``.

    ``drifts``: (ts_event ns, error text) of the run's drift events. The session stops trading on the
    difference only if told to; a person must compare ledger and account first (runbook: shutdown-emergency).
    """
    start = now_ns - int(window_s * NS_PER_S)
    recent = [(ts, text) for ts, text in drifts if start <= ts <= now_ns]
    if not recent:
        return None
    last_ts, last_text = max(recent)
    details = {"drift_events": len(recent), "last_drift_at": _iso(last_ts), "last_drift": last_text,
               "window_s": window_s, "window_start": _iso(start), "window_end": _iso(now_ns)}
    return Alert("position_drift", CRITICAL,
                 f"desk ledger differs from the exchange account ({len(recent)} drift event(s) within "
                 f"{_span(window_s)}; last {_iso(last_ts)}: {last_text})", run_id, details,
                 playbook="shutdown-emergency")


def _span(seconds: float) -> str:
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g} h"
    whole = int(round(seconds))
    if whole >= 60:
        m, sec = divmod(whole, 60)
        return f"{m} min {sec} s" if sec else f"{m} min"
    return f"{whole} s"
