"""One run for the dashboard: ``monitor run``'s detail, its equity and drawdown curves, its orders,
and the backtest of the same window overlaid (runbook 9, seed 9.3 step 4)."""

from __future__ import annotations

from typing import Any

from peaktrade.desk import open_desk
from peaktrade.errors import PeakTradeError
from peaktrade.monitor.columns import last_events, ns_to_iso, read_columns
from peaktrade.monitor.runs import run_dir
from peaktrade.monitor.views import run_detail
from peaktrade.redact import redact
from peaktrade.root import Root
from peaktrade.web.charts import Series, drawdown, legend, line_chart

EVENT_COLUMNS = ("step", "ts_event", "kind", "signal", "price", "position", "equity", "orders_generated",
                 "orders_filled", "orders_rejected", "orders_blocked", "risk_allowed", "risk_reasons", "error")


def run_view(root: Root, run_id: str, *, last: int = 20) -> dict[str, Any]:
    """Raises UsageError for an unknown or malformed run id (a 404 for the page)."""
    d = run_dir(root, run_id)
    detail = redact(run_detail(root, run_id, last=1))
    events = [{k: e.get(k) for k in EVENT_COLUMNS} for e in last_events(d, last)]
    events.reverse()  # newest first on the page
    cols = read_columns(d, ["step", "ts_event", "equity"])
    xs = (cols["ts_event"] / 1e9).tolist()
    ys = cols["equity"].tolist()
    ts = cols["ts_event"]
    span = (ns_to_iso(int(ts[0])) or "", ns_to_iso(int(ts[-1])) or "") if len(xs) else ("", "")
    equity = line_chart([Series("equity", xs, ys, "line-a")], title=f"equity of {run_id}", x_labels=span,
                        chart_id="equity-chart")
    dd = line_chart([Series("drawdown", xs, [v * 100 for v in drawdown(ys)], "line-dd")],
                    title=f"drawdown of {run_id} (%)", y_format="{:.2f}%", x_labels=span, chart_id="drawdown-chart")
    return {"detail": detail, "events": redact(events), "equity_svg": equity, "drawdown_svg": dd,
            "points": len(xs), "orders": open_orders(root, run_id)}


def open_orders(root: Root, run_id: str) -> dict[str, Any]:
    """The desk's open order intents of this run (filled and cancelled ones are counted in the events)."""
    try:
        rows = [i.to_dict() for i in open_desk(root).open_intents() if i.origin == run_id]
    except PeakTradeError as exc:
        return {"rows": [], "error": exc.message}
    return {"rows": rows, "error": ""}


def divergence_view(root: Root, run_id: str) -> dict[str, Any]:
    """The run's equity curve against the backtest's over the run's window.

    ``analysis.divergence.compare`` runs the backtest; its report keeps the backtest's curve when the
    backtest yields one. What cannot be drawn is said, never silently left out.
    """
    from peaktrade.analysis.divergence import compare
    from peaktrade.monitor.columns import parse_ts_ns
    from peaktrade.runtime.runlog import read_events

    d = run_dir(root, run_id)
    events = [e for e in read_events(d) if e.get("kind") != "gap" and e.get("ts_bar")]
    run_pts = [(parse_ts_ns(e["ts_bar"]), e.get("equity")) for e in events]
    run_series = Series("run", [p[0] / 1e9 for p in run_pts if p[0]], [p[1] for p in run_pts if p[0]], "line-a")
    missing, report, bt_series = [], None, None
    try:
        report = compare(root, run_id)
    except PeakTradeError as exc:
        missing.append(f"no backtest of this window: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - e.g. no reference candles on disk: show the run alone
        missing.append(f"no backtest of this window: {type(exc).__name__}: {exc}")
    if report is not None:
        curve = (report.backtest or {}).get("curve") or _backtest_curve(root, d, events, missing)
        pts = [(parse_ts_ns(c.get("ts_bar")), c.get("equity")) for c in curve if isinstance(c, dict)]
        pts = [p for p in pts if p[0] and isinstance(p[1], (int, float))]
        if pts:
            bt_series = Series("backtest", [p[0] / 1e9 for p in pts], [p[1] for p in pts], "line-b")
        else:
            missing.append("the divergence report carries no backtest equity curve (only its totals)")
    series = [run_series] + ([bt_series] if bt_series else [])
    first = events[0]["ts_bar"] if events else ""
    last = events[-1]["ts_bar"] if events else ""
    svg = line_chart(series, title=f"equity: run {run_id} against its backtest", x_labels=(first, last),
                     chart_id="divergence-chart")
    summary = None
    if report is not None:
        summary = {k: getattr(report, k) for k in ("divergence_pct", "divergent", "cause", "evidence", "threshold_pct")}
        bt = report.backtest or {}
        bt_pnl = bt["final_equity"] - bt["starting_cash"] if {"final_equity", "starting_cash"} <= bt.keys() else None
        summary |= {"run_pnl": report.run.get("pnl"), "backtest_pnl": bt_pnl}
    return {"svg": svg, "legend": legend(series), "missing": missing, "summary": redact(summary)}


def _backtest_curve(root: Root, d: Any, events: list[dict[str, Any]], missing: list[str]) -> list[dict[str, Any]]:
    """The backtest's per-bar curve over the run's window, run the way ``divergence.compare`` runs it
    (its report keeps the totals only)."""
    from peaktrade.analysis.backtest import parse_time, run_backtest
    from peaktrade.config import load_config
    from peaktrade.monitor.runs import read_meta

    meta = read_meta(d)
    try:
        config = load_config(root)
        bt = run_backtest(root, config, strategy=meta.get("strategy") or "ma_crossover",
                          symbol=meta.get("symbol") or "BTC/EUR",
                          timeframe=meta.get("timeframe") or config.get("session.timeframe", "1m"),
                          start=parse_time(events[0]["ts_bar"], "ts_bar"),
                          end=parse_time(events[-1]["ts_bar"], "ts_bar"))
    except Exception as exc:  # noqa: BLE001 - the report was computed; only the curve is missing
        missing.append(f"the backtest's curve could not be recomputed: {_why(exc)}")
        return []
    return bt.curve


def _why(exc: BaseException) -> str:
    return exc.message if isinstance(exc, PeakTradeError) else f"{type(exc).__name__}: {exc}"
