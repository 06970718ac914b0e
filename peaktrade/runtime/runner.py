"""Create a run (meta.json + registry row) and execute it; shared by the worker and ``session run``."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.errors import BlockedError, PeakTradeError, UsageError
from peaktrade.gateway import account_for
from peaktrade.policy.gate import live_gate_for_request
from peaktrade.runtime import procinfo, runlog
from peaktrade.runtime.registry import ACTIVE, RunRecord, open_registry

if TYPE_CHECKING:
    from peaktrade.config import Config
    from peaktrade.root import Root
    from peaktrade.runtime.session import SessionResult

MODES = ("shadow", "testnet", "live")
LIVE_REFUSED = ("mode live is refused: a live session starts only inside a play whose live gate is open "
                "(peaktrade play live-start-small), never from the command line")
_SYMBOL = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+$")
_TIMEFRAME = re.compile(r"^[1-9][0-9]*[mhdw]$")


def resolve_profile(config: Config, profile: str) -> dict[str, Any]:
    profiles = config.get("session.profiles", {}) or {}
    if profile not in profiles:
        raise UsageError(f"unknown session profile {profile!r} (config/config.toml [session.profiles]: "
                         f"{', '.join(sorted(profiles)) or 'none'})")
    return dict(profiles[profile])


def prepare_run(root: Root, *, mode: str, profile: str, strategy: str | None = None, symbol: str | None = None,
                timeframe: str | None = None, steps: int | None = None, notes: str = "",
                skip_live_risk: bool = False, operator: str = "", clock: Clock = SYSTEM_CLOCK, play_id: str = "",
                step_key: str = "", approval_id: str = "", host: str = "") -> RunRecord:
    """Check the request, write meta.json (status ``starting``) and the registry row.

    A run started by a play step records ``play_id`` and ``step_key``; the desk state keeps at most one run
    per play step, so a resumed play finds its run instead of starting a second one."""
    from peaktrade.config import load_config
    from peaktrade.policy.risk import skip_allowed
    from peaktrade.redact import redact, redact_text
    from peaktrade.runtime.strategies import get_strategy

    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r} (shadow, testnet or live)")
    if mode == "live":
        _require_live_gate(root, approval_id, play_id, clock)
    config = load_config(root)
    prof = resolve_profile(config, profile)
    strategy = strategy or prof.get("strategy") or config.get("session.strategy", "ma_crossover")
    symbol = symbol or prof.get("symbol") or config.get("session.symbol", "BTC/EUR")
    timeframe = timeframe or prof.get("timeframe") or config.get("session.timeframe", "1m")
    get_strategy(strategy, config)
    if not _SYMBOL.match(symbol):
        raise UsageError(f"--symbol {symbol!r} is not a market like BTC/EUR")
    if not _TIMEFRAME.match(timeframe):
        raise UsageError(f"--timeframe {timeframe!r} is not a timeframe like 1m, 5m, 1h, 1d")
    if steps is not None and steps < 0:
        raise UsageError("--steps must be 0 (until stopped) or more")
    run_steps = int(prof.get("steps", 0) if steps is None else steps)
    if run_steps == 0 and not prof.get("pace", True):
        raise UsageError(f"profile {profile!r} does not wait between bars, so it needs a number of steps "
                         f"(--steps N > 0 or steps in [session.profiles.{profile}])")
    _check_market(config, mode, symbol)
    if skip_live_risk and not skip_allowed(mode):
        raise BlockedError(f"--skip-live-risk is refused in mode {mode}")
    registry = open_registry(root)  # an unusable registry refuses the run before any file is written
    now = clock.now()
    run_id = runlog.new_run_id(mode, now)
    notes = redact_text(notes)  # the registry is redacted like meta.json: a secret in --notes never lands in it
    rec = RunRecord(run_id, mode, strategy, symbol, timeframe, profile, created_at=utc_iso(now), notes=notes,
                    operator=operator, play_id=play_id, step_key=step_key, account=account_for(mode),
                    approval_id=approval_id, host=host)
    meta = {
        "run_id": run_id, "mode": mode, "strategy": strategy, "symbol": symbol, "timeframe": timeframe,
        "profile": profile, "steps": run_steps,
        "warmup_bars": int(prof.get("warmup_bars", 0)), "pace": bool(prof.get("pace", True)),
        "skip_live_risk": skip_live_risk, "notes": notes, "operator": operator, "status": "starting",
        "created_at": utc_iso(now), "started_at": None, "ended_at": None, "pid": None, "pid_start": None,
        "config": redact(config.data),
    }
    run_dir = runlog.run_dir(root, run_id)
    runlog.write_meta(run_dir, meta)
    try:
        registry.add(rec)
    except PeakTradeError:
        shutil.rmtree(run_dir, ignore_errors=True)  # a run the registry does not know never started
        raise
    return rec


def _require_live_gate(root: Root, approval_id: str, play_id: str, clock: Clock) -> None:
    """The live gate for a session: the signed live_activation request whose use the starting play holds."""
    if not (approval_id and play_id):
        raise BlockedError(LIVE_REFUSED)
    reason = live_gate_for_request(root, approval_id, play_id=play_id, clock=clock)
    if reason:
        raise BlockedError(f"live session refused: {reason}")


def _check_market(config: Config, mode: str, symbol: str) -> None:
    """The symbol must be a market of the configured exchange (else the run would only fail later)."""
    from peaktrade.exchange.base import ExchangeError
    from peaktrade.exchange.factory import make_exchange

    try:
        markets = make_exchange(config, mode=mode).load_markets()
    except ExchangeError as exc:
        raise BlockedError(f"cannot check market {symbol} on the exchange: {type(exc).__name__}: {exc}") from None
    if symbol not in markets:
        known = sorted(markets)
        hint = f" (available: {', '.join(known[:10])}{' …' if len(known) > 10 else ''})" if known else ""
        raise UsageError(f"--symbol {symbol}: no such market on the {config.exchange_type} exchange{hint}")


class StopAwareClock:
    """The system clock whose sleeps end early once a stop was requested (SIGTERM)."""

    def __init__(self, base: Clock, stop: threading.Event):
        self.base, self.stop = base, stop

    def now(self):  # noqa: ANN201 - same as Clock.now
        return self.base.now()

    def monotonic(self) -> float:
        return self.base.monotonic()

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop.is_set() and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))


def run_logger(root: Root, run_dir: Path, run_id: str, *, console: bool) -> logging.Logger:
    from peaktrade.redact import redact_text

    class _Redact(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.msg, record.args = redact_text(record.getMessage()), None
            return True

    log = logging.getLogger(f"peaktrade.run.{run_id}")
    log.setLevel(logging.INFO)
    log.propagate = False
    root.logs_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter(f"%(asctime)s %(levelname)s [{run_id}] %(message)s")
    fmt.converter = time.gmtime  # UTC, like every other timestamp of a run
    handlers: list[logging.Handler] = [logging.FileHandler(run_dir / "session.log", encoding="utf-8"),
                                       logging.FileHandler(root.logs_dir / "peaktrade.log", encoding="utf-8")]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(_Redact())
        log.addHandler(h)
    return log


def close_logger(log: logging.Logger) -> None:
    for h in list(log.handlers):
        h.close()
        log.removeHandler(h)


def execute_run(root: Root, run_id: str, *, stop: threading.Event, clock: Clock | None = None,
                console: bool = False) -> SessionResult:
    """Run the session of ``run_id`` in this process until its profile ends or ``stop`` is set."""
    from peaktrade.runtime.session import SessionResult

    run_dir = runlog.run_dir(root, run_id)
    clock = clock or StopAwareClock(SYSTEM_CLOCK, stop)
    registry = open_registry(root)
    pid = os.getpid()
    started = utc_iso(clock.now())
    changes = dict(status="running", pid=pid, pid_start=procinfo.start_time(pid), started_at=started)
    if not registry.update(run_id, only_if=("starting",), **changes):
        rec = registry.get(run_id)
        if rec is None or rec.status != "stopping":
            raise UsageError(f"run {run_id} is not waiting to start (status {rec.status if rec else 'unknown'})")
        stop.set()  # stopped before it began: run no bar, end gracefully
    runlog.update_meta(run_dir, **changes)
    log = run_logger(root, run_dir, run_id, console=console)
    result = SessionResult("failed", 0, "not started")
    try:
        result = _run_session(root, run_id, run_dir, stop=stop, clock=clock, log=log)
    except Exception as exc:  # noqa: BLE001 - a failed session still closes its log and says why
        msg = exc.message if isinstance(exc, PeakTradeError) else f"{type(exc).__name__}: {exc}"
        log.error("Session failed: %s", msg)
        result = SessionResult("failed", 0, msg)
    finally:
        ended = utc_iso(clock.now())
        runlog.update_meta(run_dir, status=result.status, ended_at=ended, steps_run=result.steps,
                           error=result.error)
        try:
            registry.update(run_id, only_if=ACTIVE, status=result.status, ended_at=ended,
                            status_note=result.error or "")
        except PeakTradeError as exc:  # a registry broken meanwhile must not cost the clean shutdown
            log.warning("Run registry not updated: %s", exc.message)
        log.info("Shutdown complete (%s after %d bar(s))", result.status, result.steps)
        close_logger(log)
    return result


def _run_session(root: Root, run_id: str, run_dir: Path, *, stop: threading.Event, clock: Clock,
                 log: logging.Logger) -> SessionResult:
    from peaktrade.config import load_config
    from peaktrade.exchange.base import timeframe_ms
    from peaktrade.exchange.factory import make_exchange
    from peaktrade.gateway import open_gateway
    from peaktrade.runtime.book import Book
    from peaktrade.runtime.feeds import PacedFeed, ReplayFeed, ScaledClock, SteppedFeed, stepped_market_clock
    from peaktrade.runtime.live import LiveGateCache, signed_live_limits, sync_ledger
    from peaktrade.runtime.routing import SessionOrders
    from peaktrade.runtime.session import Session
    from peaktrade.runtime.strategies import get_strategy
    from peaktrade.runtime.writer import RunLogWriter

    meta = runlog.read_meta(run_dir)
    config = load_config(root)
    mode, symbol, timeframe = meta["mode"], meta["symbol"], meta["timeframe"]
    record = open_registry(root).get(run_id)
    if record is None or record.mode != mode:  # meta.json is a file: the desk state says what this run is
        raise BlockedError(f"run {run_id} is not in the desk state as a {mode} run: refused")
    live_gate = None
    if mode == "live":  # re-verified here, in the worker, and again (cached briefly) before each order
        _require_live_gate(root, record.approval_id, record.play_id, clock)
        live_gate = LiveGateCache(root, record.approval_id, record.play_id, clock)
    strategy = get_strategy(meta["strategy"], config)
    steps, pace = int(meta["steps"]), bool(meta["pace"])
    warmup = max(int(meta.get("warmup_bars") or 0), strategy.warmup_bars)
    tf_ms = timeframe_ms(timeframe)
    dummy = config.exchange_type == "dummy"
    if dummy and pace:
        bar_s = max(float(config.get("exchange.dummy.bar_seconds", 1) or 1), 0.05)
        market_clock: Any = ScaledClock(clock, tf_ms / 1000 / bar_s)
    elif dummy:
        market_clock = stepped_market_clock(clock.now(), tf_ms, steps or 100)
    else:
        market_clock = clock
    exchange = make_exchange(config, mode=mode, clock=market_clock)
    if dummy and pace:
        feed: Any = PacedFeed(exchange, symbol, timeframe, tf_ms, market_clock, clock, bar_s / 4, warmup)
    elif dummy:
        feed = SteppedFeed(exchange, symbol, timeframe, tf_ms, market_clock, warmup)
    elif pace:
        feed = PacedFeed(exchange, symbol, timeframe, tf_ms, market_clock, clock, min(tf_ms / 10000, 5.0), warmup)
    else:
        feed = ReplayFeed(exchange, symbol, timeframe, tf_ms, market_clock, warmup, steps or 100)
    if meta.get("skip_live_risk"):
        log.warning("!!! --skip-live-risk: the risk LIMITS are NOT enforced for this %s run (kill switch still "
                    "is) !!!", mode)
    limits = signed_live_limits(root, record.approval_id) if mode == "live" else None
    gateway = open_gateway(root, config, mode, clock=clock, log=log, client=exchange, limits=limits,
                           skip_limits=bool(meta.get("skip_live_risk")), live_gate=live_gate)
    if getattr(gateway.venue, "reconcilable", False):  # live, or a testnet sandbox: the account is the truth
        sync_ledger(gateway, exchange, symbol)
    orders = SessionOrders(gateway, run_id, symbol)
    book = Book(float(config.get("session.starting_cash", 10000.0)))
    writer = RunLogWriter(run_dir, compact_every=int(config.get("run_logs.compact_every", 5000)))
    try:
        session = Session(run_id=run_id, symbol=symbol, timeframe=timeframe, tf_ms=tf_ms, steps=steps, feed=feed,
                          strategy=strategy, orders=orders, book=book, writer=writer, clock=clock,
                          log=log, stop=stop)
        return session.run()
    finally:
        writer.close()
