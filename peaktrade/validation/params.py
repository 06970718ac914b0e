"""Typed playbook params, statically: does a value fit a param's type and enum?"""

from __future__ import annotations

from typing import Any

from peaktrade.templating import is_template

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
}


def type_ok(value: Any, type_name: str) -> bool:
    types = _PY_TYPES.get(type_name)
    if types is None:
        return True
    return isinstance(value, types) and (type_name == "boolean" or not isinstance(value, bool))


def value_problem(value: Any, spec: Any, what: str) -> str | None:
    """Why ``value`` does not fit the param ``spec`` (None if it does, or cannot be known before run time)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str) or is_template(value):
        return None
    if not type_ok(value, spec["type"]):
        return f"{what} {value!r} is not of type {spec['type']}"
    enum = spec.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"{what} {value!r} is not one of {enum!r}"
    return None


def sub_params_problems(holder: Any, target: Any, name: str) -> list[tuple[tuple, str]]:
    """(relative path, message) for the ``with:`` a caller passes to playbook ``name``.

    ``holder`` is the mapping with ``playbook:``/``with:`` (a step, or an on_failure mapping).
    """
    given = holder.get("with") if isinstance(holder, dict) else None
    given = given if isinstance(given, dict) else {}
    params = target.get("params") if isinstance(target, dict) else None
    params = params if isinstance(params, dict) else {}
    out: list[tuple[tuple, str]] = []
    for key, value in given.items():
        if key not in params:
            known = ", ".join(sorted(str(k) for k in params)) or "none"
            out.append((("with", key), f"playbook {name!r} has no param {key!r} (params: {known})"))
        elif (why := value_problem(value, params[key], "value")) is not None:
            out.append((("with", key), f"{why} (param {key!r} of playbook {name!r})"))
    for pname, spec in params.items():
        if isinstance(spec, dict) and spec.get("required") and "default" not in spec and pname not in given:
            out.append((("playbook",), f"playbook {name!r} needs param {pname!r} (required, no default): "
                                       f"pass it under with:"))
    return out
