"""The action registry and the types every action sees.

An action is ``fn(ctx: ActionContext, args: dict) -> ActionResult``. Its ``with:`` arguments are
validated against its own JSON schema before it runs (by ``peaktrade validate`` statically and by
the interpreter at run time, after templating). ``effect`` is ``read`` or ``act``: ``--dry-run``
runs read actions and only describes act actions.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peaktrade.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from peaktrade.root import Root


@dataclass
class ActionContext:
    root: Root
    operator: str = "unknown"
    play_id: str | None = None
    playbook: str | None = None
    step_id: str | None = None
    dry_run: bool = False
    assume_yes: bool = False
    clock: Clock = SYSTEM_CLOCK
    echo: Callable[[str], None] = print  # progress lines for the operator
    params: dict[str, Any] = field(default_factory=dict)
    # set by the interpreter: approvals verified for this play (decision name -> record)
    approvals: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ActionResult:
    ok: bool
    summary: str  # one line for the checklist
    output: str = ""  # longer text shown to the operator, excerpted into the journal
    data: dict[str, Any] = field(default_factory=dict)  # machine-readable facts (JSON-serialisable)
    blocked: bool = False  # refused by a guard or policy (exit 3) rather than failed


ActionFn = Callable[[ActionContext, dict[str, Any]], ActionResult]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    fn: ActionFn
    schema: dict[str, Any]
    effect: str  # "read" | "act"
    description: str
    # True if the action can touch live trading when its arguments say mode/stage "live";
    # the interpreter then runs the live gate before it.
    live_sensitive: bool = False
    # describe what an act action would do, for --dry-run
    describe: Callable[[dict[str, Any]], str] | None = None
    # an act that only reduces risk (cancel, stop, liquidate): allowed while the kill switch is engaged
    risk_reducing: bool = False
    # running it twice has the effect of running it once; a resume re-runs only such act steps blindly,
    # the others are reconciled (order intents by client id, runs by the registry) instead
    idempotent: bool = False


_REGISTRY: dict[str, ActionSpec] = {}
_loaded = False


def action(name: str, *, schema: dict[str, Any] | None = None, effect: str = "read", description: str = "",
           live_sensitive: bool = False, describe: Callable[[dict[str, Any]], str] | None = None,
           risk_reducing: bool = False, idempotent: bool | None = None):
    """Register ``fn`` as the action ``name``."""
    if effect not in ("read", "act"):
        raise ValueError(f"effect must be read or act, not {effect!r}")

    def deco(fn: ActionFn) -> ActionFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"action {name!r} registered twice")
        full_schema = schema or {"type": "object", "additionalProperties": False, "properties": {}}
        _REGISTRY[name] = ActionSpec(name, fn, full_schema, effect, description or (fn.__doc__ or "").strip(),
                                     live_sensitive, describe, risk_reducing,
                                     effect == "read" if idempotent is None else idempotent)
        return fn

    return deco


def load_all() -> dict[str, ActionSpec]:
    """Import every module of ``peaktrade.actions`` once and return the registry."""
    global _loaded
    if not _loaded:
        import peaktrade.actions as pkg

        for mod in pkgutil.iter_modules(pkg.__path__):
            if mod.name != "registry" and not mod.name.startswith("_"):
                importlib.import_module(f"peaktrade.actions.{mod.name}")
        _loaded = True
    return _REGISTRY


def get(name: str) -> ActionSpec | None:
    return load_all().get(name)
