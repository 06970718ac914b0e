"""Plain parameter coercion without pydantic (start-up time, DESIGN 10).

typer >= 0.2x coerces every command-line parameter through a pydantic ``TypeAdapter``; importing
pydantic costs 150-400 ms on the 2-core machine, on every command, which alone breaks the
`peaktrade validate` bar (500 ms). Click already hands over the right Python value for plain
annotations (str, bool, Enum choices, lists of str, unbounded int/float), so those are coerced here
directly (numbers from their plain decimal spelling). Anything else, and any value that does not
fit, falls through to typer's own coercion, so error messages and exotic types behave exactly as
before (pydantic is then imported as usual).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

_installed = False
# the unambiguous spellings only; anything else ("1_000", " 5", "inf") gets typer's own parsing and messages
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _plain_value(annotation: Any, value: Any) -> tuple[bool, Any]:
    """(True, coerced) when ``value`` already fits the plain ``annotation``; else (False, None)."""
    if annotation is str and isinstance(value, str):
        return True, value
    if annotation is bool and isinstance(value, bool):
        return True, value
    if annotation is int and isinstance(value, int) and not isinstance(value, bool):
        return True, value
    if annotation is int and isinstance(value, str) and _INT.fullmatch(value):
        return True, int(value)
    if annotation is float and isinstance(value, int | float) and not isinstance(value, bool):
        return True, float(value)
    if annotation is float and isinstance(value, str) and _FLOAT.fullmatch(value):
        return True, float(value)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        if isinstance(value, annotation):
            return True, value
        for member in annotation:
            if isinstance(value, str) and value == member.value:
                return True, member
        return False, None
    if annotation == list[str] and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return True, list(value)
    return False, None


def _is_plain(descriptor: Any) -> bool:
    info = descriptor.parameter_info
    ann = descriptor.annotation
    if descriptor.file_annotation is not None or getattr(info, "parser", None) is not None:
        return False
    if ann in (int, float) and (getattr(info, "min", None) is not None or getattr(info, "max", None) is not None):
        return False  # ranges are typer's business (clamping, messages)
    return ann in (str, bool, int, float) or ann == list[str] or (isinstance(ann, type) and issubclass(ann, Enum))


def install() -> None:
    """Route plain parameters around pydantic; a typer without these internals is left alone."""
    global _installed
    if _installed:
        return
    try:
        from typer import _coercion, core
    except ImportError:  # pragma: no cover - older or newer typer: nothing to speed up
        return
    original = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or not hasattr(_coercion, "TypeDescriptor"):
        return

    @dataclass(frozen=True)
    class PlainRuntimeParam(base):  # type: ignore[misc, valid-type]
        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            fits, coerced = _plain_value(self.annotation, value)
            if fits:
                return coerced
            return original(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        if _is_plain(descriptor):
            return PlainRuntimeParam(annotation=descriptor.annotation, parameter_info=descriptor.parameter_info,
                                     descriptor=descriptor)
        return original(descriptor)

    core.build_runtime_param = build_runtime_param
    _installed = True
