"""Register only the commands an invocation needs (start-up time, DESIGN 10).

typer turns every registered command into a click command before it parses anything: signatures,
type hints (strings under ``from __future__ import annotations``, evaluated one by one) and
parameter objects for ~90 commands, on every call. `peaktrade validate` needs one of them and
`peaktrade --help` needs only the names and one-line help of the top-level entries. So:

* ``peaktrade CMD ...``: every command module is imported (cheap: they import typer and the
  standard library only) and registered on a scratch app; only the module that defines ``CMD``
  is registered on the real app;
* ``peaktrade [--help]``: commands and groups are registered as stand-ins that carry their name
  and help only (``peaktrade CMD --help`` builds the real one);
* anything else (an unknown command, a module that registers oddly): everything, as before.

A command module that fails to import only breaks the commands it defines (and the full listing).
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType

import typer

_HELP = ("--help", "-h")
_VALUE_OPTIONS = ("--root",)  # global options that take a value


def command_name(argv: list[str]) -> str | None:
    """The first command token after the global options, or None."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in _VALUE_OPTIONS:
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            return token
    return None


def _modules() -> tuple[list[ModuleType], int]:
    """The command modules that import, and how many did not (they are someone's work in progress:
    `peaktrade validate` should not fail because `plays.py` has a syntax error)."""
    import peaktrade.cli as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    modules, broken = [], 0
    for name in names:
        try:
            modules.append(importlib.import_module(f"peaktrade.cli.{name}"))
        except Exception:  # noqa: BLE001 - reported by the full registration if this command is wanted
            broken += 1
    return modules, broken


def _names(probe: typer.Typer) -> set[str]:
    names = {c.name or c.callback.__name__.lower().replace("_", "-") for c in probe.registered_commands
             if c.name or c.callback}
    names |= {g.name or (g.typer_instance.info.name if g.typer_instance else None) for g in probe.registered_groups}
    return {n for n in names if isinstance(n, str)}


def _stand_in(group: typer.models.TyperInfo) -> typer.models.TyperInfo:
    """The group with its name, help and callback, but none of its commands."""
    if group.typer_instance is None:
        return group
    instance = copy.copy(group.typer_instance)
    instance.registered_commands = []
    instance.registered_groups = []
    info = copy.copy(group)
    info.typer_instance = instance
    return info


def _command_stand_in(command: typer.models.CommandInfo) -> typer.models.CommandInfo:
    """The command with its name and help but no parameters (the top-level listing shows no more)."""
    original = command.callback
    if original is None:
        return command

    def stand_in() -> None:  # pragma: no cover - never invoked: only listed
        raise RuntimeError("stand-in command invoked")

    stand_in.__doc__ = original.__doc__
    stand_in.__name__ = original.__name__
    info = copy.copy(command)
    info.callback = stand_in
    return info


def register_for(app: typer.Typer, argv: list[str] | None, register_all: Callable[[], None]) -> None:
    argv = list(argv or [])
    wanted = command_name(argv)
    top_help = wanted is None and (not argv or any(t in _HELP for t in argv))
    if wanted is None and not top_help:
        register_all()
        return
    modules, broken = _modules()
    if top_help and broken:
        register_all()  # the listing must be complete: let the broken module fail loudly
        return
    probes = []
    for module in modules:
        probe = typer.Typer()
        try:
            module.register(probe)
        except Exception:  # noqa: BLE001 - as above: only fatal if this module's command is wanted
            if top_help:
                register_all()
                return
            continue
        if probe.registered_callback is not None:  # a module that configures the app itself: no shortcuts
            register_all()
            return
        probes.append(probe)
    if top_help:
        for probe in probes:
            app.registered_commands += [_command_stand_in(c) for c in probe.registered_commands]
            app.registered_groups += [_stand_in(g) for g in probe.registered_groups]
        return
    for probe in probes:
        if wanted in _names(probe):
            app.registered_commands += probe.registered_commands
            app.registered_groups += probe.registered_groups
            return
    register_all()  # unknown command: let click say so, with its suggestions
