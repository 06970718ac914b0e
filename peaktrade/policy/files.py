"""Reading a policy file: the one loader, the one schema validator, fail closed on any problem."""

from __future__ import annotations

from typing import Any

from peaktrade.errors import UsageError
from peaktrade.root import Root
from peaktrade.snapshot import remembered


def load_policy(root: Root, name: str) -> dict[str, Any]:
    """``policies/<name>.yaml`` validated against ``schemas/<name>.schema.json``.

    A missing or invalid policy is never read as "no policy": it is a usage error naming every
    located problem, so whatever depends on it (the gate, the risk engine) refuses to proceed. Within a
    play, the policy the play started with (``snapshot``): loaded once, or blocked when it changed since.
    """
    return remembered(root, root.policy_file(name), lambda: _load(root, name))


def _load(root: Root, name: str) -> dict[str, Any]:
    from peaktrade import schemas
    from peaktrade.loader import load_yaml

    path = root.policy_file(name)
    loaded = load_yaml(path, root.rel(path))
    problems = list(loaded.problems)
    if not problems:  # also for an empty document ("~"): the schema says what a policy must hold
        problems += schemas.check(loaded.data, name, loaded.locations)
    if problems:
        raise UsageError(f"policies/{name}.yaml is invalid", details=[p.text() for p in problems])
    return loaded.data
