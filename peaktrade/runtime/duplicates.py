"""One session per strategy, symbol and mode: a second one is refused unless asked for.

Two identical sessions trade the same signal twice (double the exposure the operator meant), and
restarting twice used to leave three. ``runs start-*`` and the ``runs.start`` action call
``refuse_duplicate`` before they start a run; ``--allow-duplicate`` / ``allow_duplicate: true`` is
the deliberate exception (e.g. comparing two profiles side by side).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from peaktrade.config import load_config
from peaktrade.errors import BlockedError
from peaktrade.runtime import procinfo
from peaktrade.runtime.registry import RunRecord, open_registry

if TYPE_CHECKING:
    from peaktrade.root import Root


def same_session(root: Root, *, mode: str, profile: str, strategy: str | None,
                 symbol: str | None) -> list[RunRecord]:
    """Active runs (process alive, or still being launched) of the strategy and symbol this start would use."""
    config = load_config(root)
    prof = (config.get("session.profiles", {}) or {}).get(profile) or {}
    # the same defaults as runner.prepare_run: explicit, else the profile's, else [session]
    strategy = strategy or prof.get("strategy") or config.get("session.strategy", "ma_crossover")
    symbol = symbol or prof.get("symbol") or config.get("session.symbol", "BTC/EUR")
    return [r for r in open_registry(root).list(active_only=True)
            if (r.mode, r.strategy, r.symbol) == (mode, strategy, symbol)
            and (r.pid is None or procinfo.is_alive(r.pid, r.pid_start))]


def refuse_duplicate(root: Root, *, mode: str, profile: str, strategy: str | None, symbol: str | None,
                     allow: bool, flag: str = "--allow-duplicate") -> list[RunRecord]:
    """Raise ``BlockedError`` (exit 3) naming the running twin(s), unless ``allow``; returns the twins."""
    twins = same_session(root, mode=mode, profile=profile, strategy=strategy, symbol=symbol)
    if twins and not allow:
        first = twins[0]
        raise BlockedError(
            f"a {mode} session of {first.strategy} on {first.symbol} is already running: "
            f"{', '.join(t.run_id for t in twins)}",
            details=[f"stop it first (peaktrade runs stop --run-id {first.run_id}), or start a second one "
                     f"on purpose with {flag}"])
    return twins
