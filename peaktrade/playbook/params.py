"""Typed playbook params: ``-p K=V`` strings (CLI) or values (sub-playbook ``with:``) -> checked values."""

from __future__ import annotations

from typing import Any

from peaktrade.errors import UsageError
from peaktrade.playbook.model import Param, Playbook

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def split_assignments(items: list[str], what: str = "-p") -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what} {item!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


def _convert(param: Param, value: Any) -> Any:
    t = param.type
    try:
        if t == "string":
            return value if isinstance(value, str) else str(value)
        if t == "boolean":
            if isinstance(value, bool):
                return value
            low = str(value).strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError
        if t == "integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value) if not isinstance(value, str) else int(value.strip(), 10)
        if t == "number":
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
            if out != out or out in (float("inf"), float("-inf")):
                raise ValueError
            return out
    except (TypeError, ValueError):
        pass
    raise UsageError(f"param {param.name!r}: {value!r} is not a valid {t}")


def resolve_params(playbook: Playbook, given: dict[str, Any]) -> dict[str, Any]:
    """Declared params only, each converted to its type, enums checked, defaults filled, required present."""
    unknown = sorted(set(given) - set(playbook.params))
    if unknown:
        declared = ", ".join(sorted(playbook.params)) or "(none)"
        raise UsageError(f"playbook {playbook.name!r} has no param {unknown[0]!r} (declared: {declared})")
    missing = [n for n, p in playbook.params.items() if n not in given and not p.has_default and p.required]
    if len(missing) > 1:  # name them all at once, not one per attempt
        raise UsageError(f"playbook {playbook.name!r} needs params {', '.join(repr(n) for n in missing)} "
                         f"(pass {' '.join(f'-p {n}=...' for n in missing)})")
    out: dict[str, Any] = {}
    for name, param in playbook.params.items():
        if name in given:
            value = _convert(param, given[name])
        elif param.has_default:
            value = _convert(param, param.default)
        elif param.required:
            raise UsageError(f"playbook {playbook.name!r} needs param {name!r} (pass -p {name}=...)")
        else:
            value = None
        if value is not None and param.enum is not None and value not in param.enum:
            raise UsageError(f"param {name!r}: {value!r} is not one of {param.enum}")
        out[name] = value
    return out
