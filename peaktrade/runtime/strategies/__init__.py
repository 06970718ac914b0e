"""Strategies: one module per strategy, each exposing ``build(params) -> Strategy``.

Adding a strategy is adding one module here; its parameters come from ``[strategy.<name>]``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Sequence
from typing import Any, Protocol

from peaktrade.errors import UsageError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Strategy(Protocol):
    name: str
    warmup_bars: int  # closes needed before the first signal

    def signal(self, closes: Sequence[float]) -> int:
        """+1 long, 0 flat, -1 exit/short intent, from the closes so far (last = current bar)."""
        ...

    def target_position(self, signal: int, *, equity: float, price: float, position: float) -> float:
        """The position (base units) the strategy wants after this bar."""
        ...


def available() -> list[str]:
    import peaktrade.runtime.strategies as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def _params(name: str, config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if hasattr(config, "get") and not isinstance(config, dict):
        return dict(config.get(f"strategy.{name}", {}) or {})
    return dict(((config or {}).get("strategy") or {}).get(name) or {})


def get_strategy(name: str, config: Any = None) -> Strategy:
    """The strategy ``name`` built with ``[strategy.<name>]`` from ``config`` (a Config or a dict)."""
    if not _NAME.match(name or "") or name not in available():
        raise UsageError(f"unknown strategy {name!r} (available: {', '.join(available())})")
    module = importlib.import_module(f"peaktrade.runtime.strategies.{name}")
    return module.build(_params(name, config))
