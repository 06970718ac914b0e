"""``/metrics``: Prometheus text made by ``prometheus_client`` from the same read models as the pages.

A fresh registry per scrape with one collector: every value is read when scraped (the desk can be
changed by any process), nothing is kept in the server between scrapes except the journal checks
(``web.plays``) and the monitor's summary cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from peaktrade.desk.killswitch import read_kill_switch
from peaktrade.root import Root
from peaktrade.web import data, plays
from peaktrade.web.runindex import index_for

KS_VALUE = {"ACTIVE": 0, "KILLED": 1, "RECOVERING": 2}


def _families(root: Root) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    rows = data.runs(root)["rows"]
    # an ended run's series end with it (bounded cardinality); another host's active run has its figures on
    # that host (its own dashboard exports them: scraping every host must not count a run twice)
    runs = [r for r in rows if r["active"] and not r["remote"]]
    index = index_for(root)
    labels = ["run_id"]  # mode, strategy and symbol once, on peaktrade_run_info (join on run_id)
    info = GaugeMetricFamily("peaktrade_run_info", "Always 1: the run's mode, strategy and symbol.",
                             labels=["run_id", "mode", "strategy", "symbol", "timeframe"])
    equity = GaugeMetricFamily("peaktrade_run_equity", "Last equity of the run (quote currency).", labels=labels)
    pnl = GaugeMetricFamily("peaktrade_run_pnl", "Equity minus starting cash.", labels=labels)
    dd = GaugeMetricFamily("peaktrade_run_drawdown_ratio", "Current drawdown, equity / peak - 1 (<= 0).",
                           labels=labels)
    mdd = GaugeMetricFamily("peaktrade_run_max_drawdown_ratio", "Deepest drawdown of the run (<= 0).", labels=labels)
    events = CounterMetricFamily("peaktrade_run_events", "Events in the run log.", labels=labels)
    stale = GaugeMetricFamily("peaktrade_run_stale", "1 for an active run silent for longer than the no_events "
                              "rule allows.", labels=labels)
    blocked = CounterMetricFamily("peaktrade_run_orders_blocked", "Orders blocked by the risk engine, gateway or "
                                  "kill switch.", labels=labels)
    for r in runs:
        lv = [str(r["run_id"])]
        info.add_metric([str(r.get(k) or "") for k in ("run_id", "mode", "strategy", "symbol", "timeframe")], 1.0)
        for fam, key in ((equity, "equity"), (pnl, "pnl"), (dd, "drawdown"), (mdd, "max_drawdown")):
            if r.get(key) is not None:
                fam.add_metric(lv, float(r[key]))
        events.add_metric(lv, float(r.get("events") or 0))
        stale.add_metric(lv, 1.0 if r["stale"] else 0.0)
        blocked.add_metric(lv, index.orders_blocked(r["run_id"]))
    yield from (info, equity, pnl, dd, mdd, events, stale, blocked)
    by_status = GaugeMetricFamily("peaktrade_runs", "Runs by status (crashed and lost included).", labels=["status"])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    for status, n in sorted(counts.items()):
        by_status.add_metric([status], float(n))
    yield by_status
    attention = GaugeMetricFamily("peaktrade_runs_needing_attention", "Crashed or lost runs nobody acknowledged "
                                  "(peaktrade runs ack).")
    attention.add_metric([], float(sum(1 for r in rows if r["attention"])))
    yield attention

    firing = data.firing_alerts(root)["rows"]
    alerts = GaugeMetricFamily("peaktrade_alerts_firing", "Alerts firing, by severity.", labels=["severity"])
    for sev in ("WARNING", "CRITICAL"):
        alerts.add_metric([sev], float(sum(1 for a in firing if a["severity"] == sev)))
    yield alerts

    ks = read_kill_switch(root)
    state = GaugeMetricFamily("peaktrade_kill_switch_state", "Kill switch: 0 released, 1 engaged, 2 recovering "
                              "(an unreadable state reads engaged).")
    state.add_metric([], float(KS_VALUE.get(ks.state, 1)))
    yield state
    blocks = GaugeMetricFamily("peaktrade_kill_switch_blocks_orders", "1 while new orders are blocked.")
    blocks.add_metric([], 1.0 if ks.blocks_orders else 0.0)
    yield blocks

    bad = GaugeMetricFamily("peaktrade_journal_integrity_failures", "Play journals that fail `plays verify`.")
    bad.add_metric([], float(plays.integrity_failures(root)))
    yield bad


def render(root: Root) -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    class Desk:
        def collect(self) -> Iterator[Any]:
            return _families(root)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Desk())
    return generate_latest(registry), CONTENT_TYPE_LATEST
