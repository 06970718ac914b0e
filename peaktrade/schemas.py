"""The one schema validator: JSON Schema 2020-12, every error reported with its location.

Schemas are the packaged copies (``root.defaults_dir()/schemas``): they are the contract of this
version of the code. Validators are built once per schema and reused.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from peaktrade.loader import Locations
from peaktrade.problems import Problem
from peaktrade.root import defaults_dir


def schema_path(name: str):
    return defaults_dir() / "schemas" / f"{name}.schema.json"


@cache
def _registry():
    from referencing import Registry, Resource

    resources = []
    for p in sorted((defaults_dir() / "schemas").glob("*.schema.json")):
        doc = json.loads(p.read_text(encoding="utf-8"))
        res = Resource.from_contents(doc)
        resources.append((p.name, res))
        if "$id" in doc:
            resources.append((doc["$id"], res))
    return Registry().with_resources(resources)


@cache
def load_schema(name: str) -> dict[str, Any]:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


@cache
def validator(name: str):
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    # No check_schema() here: checking against the 2020-12 metaschema costs ~40 ms per schema on
    # every command (the validate bar is 500 ms). The shipped schemas are checked by the test suite
    # (tests/validation/test_validation_schemas.py) instead.
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validator_for(schema: dict[str, Any]):
    """A validator for an inline schema (e.g. an action's ``with:`` schema)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, registry=_registry())


def step_id_at(data: Any, path: tuple) -> str | None:
    """The id of the playbook step a path points into, if any."""
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int) and isinstance(data, dict):
        steps = data.get("steps")
        if isinstance(steps, list) and path[1] < len(steps) and isinstance(steps[path[1]], dict):
            sid = steps[path[1]].get("id")
            return sid if isinstance(sid, str) else None
    return None


def _best(error):
    """For oneOf/anyOf failures, the most relevant sub-error (jsonschema's own heuristic)."""
    from jsonschema.exceptions import best_match

    if error.context:
        return best_match(error.context) or error
    return error


def non_finite(data: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """Every NaN or infinite number in ``data`` (YAML ``.nan``/``.inf``) with its path.

    JSON Schema cannot reject them (``nan < minimum`` is false, so ``minimum`` lets NaN through),
    yet a NaN limit compares false with everything and would silently never block: fail closed.
    """
    import math

    hits, seen, stack = [], set(), [(path, data)]
    while stack:  # iterative and alias-safe: YAML may nest deeply or refer to itself (&a [*a])
        here, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            hits.append((here, f"{value} is not a finite number (NaN and infinity are never valid)"))
        elif isinstance(value, (dict, list)) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*here, k), v) for k, v in items)
    return sorted(hits, key=lambda hit: [str(part) for part in hit[0]])


def check(data: Any, schema: str | Any, locs: Locations, *, prefix: tuple = (),
          step_of: Any = None) -> list[Problem]:
    """All schema errors of ``data`` as located problems (never only the first)."""
    v = validator(schema) if isinstance(schema, str) else schema
    problems = [locs.problem((*prefix, *path), message,
                             step=step_id_at(step_of if step_of is not None else data, (*prefix, *path)))
                for path, message in non_finite(data)]
    for err in v.iter_errors(data):
        err = _best(err)
        path = (*prefix, *err.absolute_path)
        step = step_id_at(step_of if step_of is not None else data, path)
        problems.append(locs.problem(path, err.message, step=step))
    return sorted(set(problems))
