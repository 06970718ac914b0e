"""Schema errors as located problems, with messages an operator can act on.

``peaktrade.schemas`` holds the one validator; this module only words its errors better for
playbooks: "exactly one kind" instead of jsonschema's oneOf dump, and an unknown key located at
the key itself rather than at the mapping that holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from peaktrade.loader import Locations
from peaktrade.problems import Problem
from peaktrade.schemas import step_id_at

STEP_KINDS = ("run", "action", "confirm", "manual", "approve", "decide", "playbook")


def plain_path(path: tuple) -> tuple[str | int, ...]:
    """Path parts as str/int: YAML allows other keys (null, floats), which the loader already reports."""
    return tuple(p if isinstance(p, (str, int)) and not isinstance(p, bool) else str(p) for p in path)


def _is_step_kind_oneof(err) -> bool:
    options = err.schema.get("oneOf") if isinstance(err.schema, dict) else None
    return bool(options) and all(
        isinstance(o, dict) and list(o) == ["required"] and o["required"][0] in STEP_KINDS for o in options
    )


def _messages(err) -> list[tuple[tuple, str]]:
    """(relative path, message) pairs for one jsonschema error."""
    path = tuple(err.absolute_path)
    if err.validator == "oneOf" and _is_step_kind_oneof(err):
        found = [k for k in STEP_KINDS if isinstance(err.instance, dict) and k in err.instance]
        return [(path, f"step must have exactly one of {', '.join(STEP_KINDS)} "
                       f"(found: {', '.join(found) if found else 'none'})")]
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        patterns = err.schema.get("patternProperties", {})
        extra = [k for k in err.instance if k not in allowed and not _matches_any(k, patterns)]
        return [((*path, k), f"unknown key {k!r}{_key_hint(str(k), allowed)}") for k in extra] \
            or [(path, err.message)]
    if err.validator == "oneOf" and not isinstance(err.instance, dict) and _has_playbook_option(err):
        # step on_failure: the string form failed, and "a mapping" is the other half of the truth
        return [(path, f"{err.instance!r} is not one of ['continue', 'abort'], "
                       "nor a mapping {playbook: NAME}")]
    if err.validator in ("oneOf", "anyOf") and err.context:
        from jsonschema.exceptions import best_match

        best = best_match(err.context)
        if best is not None:
            return _messages(best)
    schema_path = list(err.schema_path)
    if err.validator == "required" and len(schema_path) >= 3 and schema_path[-3] == "dependentSchemas":
        # e.g. `shell: true` on an action step: say which key is out of place, not what is "required"
        key = schema_path[-2]
        needed = " or ".join(repr(k) for k in err.validator_value)
        return [((*path, key), f"key {key!r} is only allowed together with {needed}")]
    return [(path, err.message)]


def _key_hint(key: str, allowed: list[str]) -> str:
    """A likely typo gets a suggestion; otherwise a short list of what is allowed."""
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (allowed: {', '.join(allowed)})" if allowed and len(allowed) <= 12 else ""


def _has_playbook_option(err) -> bool:
    options = err.schema.get("oneOf") if isinstance(err.schema, dict) else None
    return any(isinstance(o, dict) and o.get("required") == ["playbook"] for o in options or [])


def _matches_any(key: str, patterns: dict) -> bool:
    import re

    return any(re.search(p, key) for p in patterns)


def schema_problems(data: Any, validator, locs: Locations, *, prefix: tuple = (),
                    step_data: Any = None, skip: Callable[[Any], bool] | None = None) -> list[Problem]:
    """All errors of ``validator`` on ``data`` (never only the first), located and worded.

    ``skip(error)`` drops errors that cannot be judged statically (e.g. a templated value).
    """
    from peaktrade.schemas import non_finite

    problems: set[Problem] = set()
    for rel, message in non_finite(data):
        path = plain_path((*prefix, *rel))
        problems.add(locs.problem(path, message, step=step_id_at(step_data if step_data is not None else data, path)))
    for err in validator.iter_errors(data):
        if skip is not None and skip(err):
            continue
        for rel, message in _messages(err):
            path = plain_path((*prefix, *rel))
            step = step_id_at(step_data if step_data is not None else data, path)
            problems.add(locs.problem(path, message, step=step))
    return sorted(problems)
