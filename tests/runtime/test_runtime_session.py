"""Sessions in-process on the dummy exchange with a fake clock: accounting, risk gate, gaps, live refusal."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import pytest

from peaktrade.clock import FakeClock
from peaktrade.errors import BlockedError
from peaktrade.exchange.base import timeframe_ms
from peaktrade.exchange.dummy import DummyExchange
from peaktrade.gateway import Gateway
from peaktrade.gateway.venues import PaperVenue
from peaktrade.policy.limits import load_risk_limits
from peaktrade.runtime import runlog
from peaktrade.runtime.book import Book, Fill
from peaktrade.runtime.feeds import SteppedFeed, stepped_market_clock
from peaktrade.runtime.routing import SessionOrders
from peaktrade.runtime.runner import prepare_run
from peaktrade.runtime.session import Session
from peaktrade.runtime.strategies import get_strategy
from peaktrade.runtime.writer import RunLogWriter

TF = "1m"


class RecordingVenue(PaperVenue):
    """Paper fills, each recorded with the bar step it was made on."""

    def __init__(self, session_ref):
        super().__init__(0.0026, 5.0)
        self.session_ref, self.fills = session_ref, []

    def place(self, symbol, side, order_type, quantity, price, *, client_order_id, mark):
        order = super().place(symbol, side, order_type, quantity, price, client_order_id=client_order_id, mark=mark)
        self.fills.append((self.session_ref[0].writer.step + 1, Fill(side, order.filled, order.average, order.fee)))
        return order


def _orders(root, run_id, venue, clock, log, stage="shadow", skip=False):
    account = {"shadow": "paper", "testnet": "testnet"}[stage]
    gw = Gateway(root, account=account, venue=venue, limits=load_risk_limits(root, stage), clock=clock, log=log,
                 skip_limits=skip)
    return SessionOrders(gw, run_id, "BTC/EUR")


class DroppingExchange:
    """The dummy exchange with some candles missing (a data gap)."""

    def __init__(self, inner, drop_every: int):
        self.inner, self.drop_every = inner, drop_every

    def fetch_ohlcv(self, symbol, timeframe, since=None, limit=None):
        tf = timeframe_ms(timeframe)
        return [c for c in self.inner.fetch_ohlcv(symbol, timeframe, since, limit) if (c[0] // tf) % self.drop_every]


def _session(root, tmp_path, *, steps=60, fraction=0.05, exchange_wrap=None, stage="shadow", skip=False):
    clock = FakeClock()
    tf_ms = timeframe_ms(TF)
    market = stepped_market_clock(clock.now(), tf_ms, steps)
    exchange = DummyExchange({"seed": 7, "bar_seconds": 1, "volatility": 0.002}, clock=market)
    if exchange_wrap:
        exchange = exchange_wrap(exchange)
    strategy = get_strategy("ma_crossover", {"strategy": {"ma_crossover": {
        "fast_window": 2, "slow_window": 5, "position_fraction": fraction}}})
    log = logging.getLogger(f"test.session.{tmp_path.name}")
    ref: list = []
    executor = RecordingVenue(ref)
    run_id = f"shadow_20251207_120000_{tmp_path.name[-6:]}"
    s = Session(run_id=run_id, symbol="BTC/EUR", timeframe=TF, tf_ms=tf_ms, steps=steps,
                feed=SteppedFeed(exchange, "BTC/EUR", TF, tf_ms, market, 5), strategy=strategy,
                orders=_orders(root, run_id, executor, clock, log, stage, skip),
                book=Book(10000.0), writer=RunLogWriter(tmp_path / "run", compact_every=13), clock=clock, log=log,
                stop=threading.Event())
    ref.append(s)
    return s, executor


def test_equity_cash_and_pnl_add_up_when_the_fills_are_replayed(root, tmp_path):
    s, executor = _session(root, tmp_path)
    result = s.run()
    s.writer.close()
    assert result.status == "completed" and result.steps == 60
    events = runlog.read_events(tmp_path / "run")
    assert len(executor.fills) >= 4, "the test needs round trips to mean anything"
    by_step: dict[int, list[Fill]] = {}
    for step, fill in executor.fills:
        by_step.setdefault(step, []).append(fill)
    cash, pos, lots, realized = 10000.0, 0.0, [], 0.0  # FIFO lots: an independent way to the same numbers
    for e in events:
        for f in by_step.get(e["step"], []):
            signed = f.quantity if f.side == "buy" else -f.quantity
            cash -= signed * f.price + f.fee
            realized -= f.fee
            if signed > 0:
                lots.append([f.quantity, f.price])
            else:
                left = f.quantity
                while left > 1e-15:
                    q = min(left, lots[0][0])
                    realized += q * (f.price - lots[0][1])
                    lots[0][0] -= q
                    left -= q
                    if lots[0][0] <= 1e-15:
                        lots.pop(0)
            pos += signed
        unrealized = sum(q * (e["close"] - p) for q, p in lots)
        assert e["cash"] == pytest.approx(cash, abs=1e-6)
        assert e["position"] == pytest.approx(pos, abs=1e-12)
        assert e["equity"] == pytest.approx(cash + pos * e["close"], abs=1e-6)
        assert e["realized_pnl"] == pytest.approx(realized, abs=1e-6)
        assert e["unrealized_pnl"] == pytest.approx(unrealized, abs=1e-6)
        assert e["equity"] == pytest.approx(10000.0 + e["realized_pnl"] + e["unrealized_pnl"], abs=1e-6)
    fills_in_events = sum(e["orders_filled"] for e in events)
    assert fills_in_events == len(executor.fills)


def test_risk_engine_blocks_oversized_orders_with_the_reason(root, tmp_path, caplog):
    s, executor = _session(root, tmp_path, steps=30, fraction=0.5)  # 5000 EUR > max_order_notional 1000
    with caplog.at_level(logging.WARNING):
        s.run()
    s.writer.close()
    events = runlog.read_events(tmp_path / "run")
    blocked = [e for e in events if e["orders_blocked"]]
    assert blocked and not executor.fills
    assert blocked[0]["risk_allowed"] is False
    assert blocked[0]["risk_reasons"][0].startswith("max_order_notional")
    assert any(r.getMessage().startswith("[RISK] Order blocked: max_order_notional") for r in caplog.records)


def test_kill_switch_stops_new_orders(root, tmp_path):
    from peaktrade.policy.killswitch import KillSwitch

    KillSwitch(root).engage("test", "alice")
    s, executor = _session(root, tmp_path, steps=30)
    s.run()
    s.writer.close()
    events = runlog.read_events(tmp_path / "run")
    assert not executor.fills
    assert any(e["risk_reasons"] == ["kill switch engaged"] for e in events)
    assert all(e["orders_filled"] == 0 for e in events)


def test_an_unreadable_desk_state_fails_closed(root, tmp_path):
    """The desk state replaced by garbage while the session runs: every later order is blocked."""
    s, executor = _session(root, tmp_path, steps=30)
    desk = root.var_dir / "desk.sqlite"
    desk.unlink()
    desk.write_text("garbage\n")
    s.run()
    s.writer.close()
    events = runlog.read_events(tmp_path / "run")
    assert not executor.fills
    blocked = [e for e in events if e["orders_blocked"]]
    assert blocked and all(e["risk_reasons"][0] == "kill switch engaged" for e in blocked)
    assert all(e["risk_reasons"][1].startswith("desk state unreadable") for e in blocked)


def test_data_gap_is_logged_and_recorded(root, tmp_path, caplog):
    s, _ = _session(root, tmp_path, steps=20, exchange_wrap=lambda ex: DroppingExchange(ex, 7))
    with caplog.at_level(logging.WARNING):
        s.run()
    s.writer.close()
    gaps = [e for e in runlog.read_events(tmp_path / "run") if e["kind"] == "gap"]
    assert gaps and gaps[0]["error"].startswith("Gap detected: BTC/EUR 1m: 1 bar(s) missing between")
    assert any(r.getMessage().startswith("[DATA] Gap detected: BTC/EUR 1m") for r in caplog.records)


def test_live_mode_and_skip_in_live_are_refused(root):
    with pytest.raises(BlockedError, match="mode live is refused"):
        prepare_run(root, mode="live", profile="quick_smoke")
    assert runlog.list_run_dirs(root) == []


def test_skip_live_risk_skips_limits_but_not_the_kill_switch(root, tmp_path):
    s, executor = _session(root, tmp_path, steps=30, fraction=0.5, skip=True)
    s.run()
    s.writer.close()
    assert executor.fills  # the 5000 EUR orders pass without limits
    events = runlog.read_events(tmp_path / "run")
    assert any(e["risk_reasons"] == ["risk limits skipped (--skip-live-risk)"] for e in events)


class _Injecting:
    """Let the dummy exchange fail the next market-data reads once the session is under way."""

    def __init__(self, inner, kind, times):
        self.inner, self.kind, self.times, self.calls = inner, kind, times, 0

    def fetch_ohlcv(self, *a, **k):
        self.calls += 1
        if self.calls == 4:  # after the warm-up and a few bars
            self.inner.inject(self.kind, times=self.times, methods=("fetch_ohlcv",))
        return self.inner.fetch_ohlcv(*a, **k)


def test_network_errors_on_reads_are_recorded_and_retried(root, tmp_path, caplog):
    s, _ = _session(root, tmp_path, steps=20, exchange_wrap=lambda ex: _Injecting(ex, "network", 2))
    with caplog.at_level(logging.ERROR):
        result = s.run()
    s.writer.close()
    assert result.status == "completed" and result.steps == 20
    events = runlog.read_events(tmp_path / "run")
    errors = [e for e in events if e["kind"] == "error"]
    assert [e["error"] for e in errors] == ["ExchangeNetworkError: Request timeout"] * 2
    assert not [e for e in events if e["kind"] == "gap"]  # a failed read does not skip a bar
    assert s.clock.sleeps[:2] == [1.0, 2.0]  # backoff on the injected clock, no real sleep
    assert any("[EXCHANGE] ExchangeNetworkError: Request timeout: retrying" in r.getMessage() for r in caplog.records)


def test_authentication_error_halts_the_session(root, tmp_path):
    s, _ = _session(root, tmp_path, steps=20, exchange_wrap=lambda ex: _Injecting(ex, "auth", 1))
    result = s.run()
    s.writer.close()
    assert result.status == "failed" and "ExchangeAuthenticationError: Invalid API key" in result.error
    assert runlog.read_events(tmp_path / "run")[-1]["kind"] == "error"


def test_paced_session_on_the_dummy_exchange_gets_a_bar_every_bar_seconds_of_injected_time(root, tmp_path):
    import time

    from peaktrade.runtime.feeds import PacedFeed, ScaledClock

    clock = FakeClock()
    tf_ms = timeframe_ms(TF)
    bar_s = 2.0
    market = ScaledClock(clock, tf_ms / 1000 / bar_s)  # one 1m candle per 2 s of (injected) time
    exchange = DummyExchange({"seed": 3, "bar_seconds": bar_s}, clock=market)
    strategy = get_strategy("ma_crossover", {"strategy": {"ma_crossover": {"fast_window": 2, "slow_window": 5}}})
    log = logging.getLogger("test.paced")
    s = Session(run_id="testnet_20251207_120000_abcdef", symbol="BTC/EUR", timeframe=TF, tf_ms=tf_ms, steps=6,
                feed=PacedFeed(exchange, "BTC/EUR", TF, tf_ms, market, clock, bar_s / 4, 5), strategy=strategy,
                orders=_orders(root, "testnet_20251207_120000_abcdef", PaperVenue(0.0026, 5.0), clock, log, "testnet"),
                book=Book(10000.0), writer=RunLogWriter(tmp_path / "run"), clock=clock, log=log,
                stop=threading.Event())
    t0 = time.monotonic()
    result = s.run()
    s.writer.close()
    assert result.status == "completed" and result.steps == 6
    assert time.monotonic() - t0 < 5  # no real waiting: the injected clock moved
    assert 6 * bar_s - bar_s <= sum(clock.sleeps) <= 6 * bar_s + bar_s
    bars = [e["ts_bar"] for e in runlog.read_events(tmp_path / "run")]
    stamps = [datetime.fromisoformat(b.replace("Z", "+00:00")).timestamp() for b in bars]
    assert [b - a for a, b in zip(stamps, stamps[1:], strict=False)] == [60.0] * 5  # consecutive candles, no gap


def test_an_unpaced_profile_without_steps_is_refused(root):
    from peaktrade.errors import UsageError

    with pytest.raises(UsageError, match="profile 'quick_smoke' does not wait between bars"):
        prepare_run(root, mode="testnet", profile="quick_smoke", steps=0)
    with pytest.raises(UsageError, match="unknown session profile 'nope'"):
        prepare_run(root, mode="testnet", profile="nope")
    assert runlog.list_run_dirs(root) == []


def test_a_symbol_the_exchange_does_not_list_is_refused_before_anything_starts(root):
    from peaktrade.errors import UsageError

    with pytest.raises(UsageError, match=r"--symbol DOGE/EUR: no such market on the dummy exchange \(available: "
                                         r"BTC/EUR, ETH/EUR\)"):
        prepare_run(root, mode="testnet", profile="quick_smoke", symbol="DOGE/EUR")
    assert runlog.list_run_dirs(root) == []
