"""The alert rules' exact semantics (DESIGN 6, docs/alerts.md)."""

from __future__ import annotations

import numpy as np

from peaktrade.alerts.rules import CRITICAL, WARNING, error_spike, no_events, pnl_drop

S = 1_000_000_000
T0 = 1_765_108_800 * S  # 2025-12-07T12:00:00Z


def minutes(n: int) -> np.ndarray:
    return T0 + np.arange(n, dtype=np.int64) * 60 * S


def test_pnl_drop_baseline_is_first_point_inside_window():
    # 121 events one minute apart: the 1 h window ending at the last event starts at minute 60
    eq = np.full(121, 100.0)
    eq[:60] = 200.0  # outside the window: must not become the baseline
    eq[60] = 100.0
    eq[-1] = 95.0
    alert = pnl_drop(minutes(121), eq, threshold_pct=5.0, window_s=3600, run_id="r1")
    assert alert is not None and alert.level == CRITICAL and alert.rule == "pnl_drop"
    assert alert.details["baseline_equity"] == 100.0
    assert alert.details["last_equity"] == 95.0
    assert alert.details["drop_pct"] == 5.0
    assert alert.details["window_start"] == "2025-12-07T13:00:00Z"
    assert alert.details["window_end"] == "2025-12-07T14:00:00Z"
    assert alert.message == "PnL drop 5.00% ≥ 5% within 1 h (equity 100.00 -> 95.00)"


def test_pnl_drop_below_threshold_and_rising_equity_do_not_fire():
    eq = np.full(61, 100.0)
    eq[-1] = 95.01
    assert pnl_drop(minutes(61), eq, threshold_pct=5.0, window_s=3600) is None
    assert pnl_drop(minutes(61), np.linspace(100, 150, 61), threshold_pct=1.0, window_s=3600) is None


def test_pnl_drop_ignores_nan_equity_and_non_positive_baseline():
    eq = np.array([np.nan, 100.0, 80.0, np.nan])
    alert = pnl_drop(minutes(4), eq, threshold_pct=10, window_s=3600)
    assert alert is not None and alert.details["baseline_equity"] == 100.0 and alert.details["last_equity"] == 80.0
    assert pnl_drop(minutes(2), np.array([0.0, -5.0]), threshold_pct=1, window_s=3600) is None
    assert pnl_drop(minutes(2), np.array([np.nan, np.nan]), threshold_pct=1, window_s=3600) is None


def test_no_events_levels_at_the_boundaries():
    last = T0
    assert no_events(last, T0 + 600 * S, max_silence_s=600) is None  # exactly max: not yet
    w = no_events(last, T0 + 601 * S, max_silence_s=600)
    assert w is not None and w.level == WARNING and w.details["silence_s"] == 601
    assert no_events(last, T0 + 1200 * S, max_silence_s=600).level == WARNING  # exactly 2 x max
    c = no_events(last, T0 + 1201 * S, max_silence_s=600, run_id="r")
    assert c.level == CRITICAL
    assert c.message == "no events for 20 min 1 s since last event (max 10 min)"


def test_no_events_without_events_measures_from_run_start():
    c = no_events(None, T0 + 3 * 600 * S, max_silence_s=600, started_ns=T0)
    assert c.level == CRITICAL and c.details["reference"] == "started_at"
    assert no_events(None, T0 + 60 * S, max_silence_s=600, started_ns=T0) is None
    unknown = no_events(None, T0, max_silence_s=600)
    assert unknown.level == WARNING and "cannot be measured" in unknown.message


def test_error_spike_counts_rejected_blocked_and_error_events_inside_window():
    n = 30  # minutes 0..29; 10-minute window ending at minute 29 covers minutes 19..29
    rejected = np.zeros(n)
    blocked = np.zeros(n)
    has_error = np.zeros(n, dtype=bool)
    rejected[:19] = 100  # outside the window
    rejected[19] = 2  # on the window's start: inside (closed interval)
    blocked[25] = 2
    has_error[[20, 29]] = True
    assert error_spike(minutes(n), rejected, blocked, has_error, max_errors=6, window_s=600) is None  # 6 = max
    w = error_spike(minutes(n), rejected, blocked, has_error, max_errors=5, window_s=600)
    assert w.level == WARNING
    assert (w.details["errors"], w.details["orders_rejected"], w.details["orders_blocked"],
            w.details["error_events"]) == (6, 2, 2, 2)
    assert error_spike(minutes(n), rejected, blocked, has_error, max_errors=3, window_s=600).level == WARNING
    assert error_spike(minutes(n), rejected, blocked, has_error, max_errors=2, window_s=600).level == CRITICAL


def test_error_spike_window_can_end_at_an_explicit_time():
    rejected = np.array([5.0, 0.0])
    ts = minutes(2)
    later = int(ts[-1]) + 3600 * S
    assert error_spike(ts, rejected, np.zeros(2), np.zeros(2, bool), max_errors=1, window_s=600,
                       end_ns=later) is None
    assert error_spike(np.array([], dtype=np.int64), [], [], [], max_errors=0, window_s=60) is None


def test_rules_handle_a_million_points():
    n = 1_000_000
    ts = T0 + np.arange(n, dtype=np.int64) * S
    eq = np.linspace(10_000, 9_000, n)
    alert = pnl_drop(ts, eq, threshold_pct=0.03, window_s=3600)
    spike = error_spike(ts, np.ones(n), np.zeros(n), np.zeros(n, bool), max_errors=10, window_s=600)
    assert alert.level == CRITICAL and spike.details["errors"] == 601
