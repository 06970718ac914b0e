"""Property tests: the vectorised rules equal a plain, event-by-event reading of docs/alerts.md."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from peaktrade.alerts.rules import CRITICAL, WARNING, error_spike, pnl_drop

S = 1_000_000_000

gaps = st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=60)
equity = st.one_of(st.floats(min_value=1, max_value=1e6), st.just(float("nan")))


def _times(deltas):
    return np.cumsum(np.asarray(deltas, dtype=np.int64)) * S


def _ref_pnl(ts, eq, threshold, window):
    points = [(t, e) for t, e in zip(ts, eq, strict=True) if e == e]
    if not points:
        return None
    end, last = points[-1]
    baseline = next(e for t, e in points if end - window * S <= t <= end)
    if baseline <= 0:
        return None
    drop = (baseline - last) / baseline * 100
    return CRITICAL if drop >= threshold else None


def _ref_spike(ts, rej, blk, err, max_errors, window):
    end = max(ts)
    n = sum(r + b + (1 if e else 0) for t, r, b, e in zip(ts, rej, blk, err, strict=True) if end - window * S <= t)
    return CRITICAL if n > 2 * max_errors else WARNING if n > max_errors else None


@settings(max_examples=200, deadline=None)
@given(st.data(), gaps, st.floats(min_value=0.01, max_value=50), st.integers(min_value=1, max_value=7200))
def test_pnl_drop_matches_the_definition(data, deltas, threshold, window):
    ts = _times(deltas)
    eq = data.draw(st.lists(equity, min_size=len(ts), max_size=len(ts)))
    alert = pnl_drop(ts, np.array(eq), threshold_pct=threshold, window_s=window)
    assert (alert.level if alert else None) == _ref_pnl(list(ts), eq, threshold, window)


@settings(max_examples=200, deadline=None)
@given(st.data(), gaps, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=3600))
def test_error_spike_matches_the_definition(data, deltas, max_errors, window):
    ts = _times(deltas)
    n = len(ts)
    rej = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    blk = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    err = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    alert = error_spike(ts, np.array(rej, float), np.array(blk, float), np.array(err), max_errors=max_errors,
                        window_s=window)
    assert (alert.level if alert else None) == _ref_spike(list(ts), rej, blk, err, max_errors, window)
