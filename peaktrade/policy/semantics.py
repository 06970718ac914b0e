"""Checks across the policy files that a JSON Schema cannot express, as located problems.

`peaktrade validate` can add these after the schema checks: ``check_policies(root)``. Errors make a
policy unusable; warnings point at policies that are valid but can never do what they say.
"""

from __future__ import annotations

from typing import Any

from peaktrade.problems import Problem
from peaktrade.root import Root

REQUIRED_DECISIONS = ("live_activation", "kill_switch_release")


def _load(root: Root, name: str):
    from peaktrade import schemas
    from peaktrade.loader import load_yaml

    path = root.policy_file(name)
    loaded = load_yaml(path, root.rel(path))
    if loaded.data is None or loaded.problems or schemas.check(loaded.data, name, loaded.locations):
        return None  # syntax and schema problems are reported by the schema check itself
    return loaded


def _roles_problems(roles) -> list[Problem]:
    data, locs = roles.data, roles.locations
    out = []
    decisions: dict[str, Any] = data["decisions"]
    for name in REQUIRED_DECISIONS:
        if name not in decisions:
            out.append(locs.problem(("decisions",), f"decision {name!r} is not defined: nobody can approve it",
                                    severity="warning"))
    holders: dict[str, set[str]] = {}
    seen_keys: dict[str, str] = {}
    first_at: dict[str, int] = {}
    for i, person in enumerate(data["people"]):
        if person["name"] in first_at:  # one name twice: its keys and roles would be merged or lost
            out.append(locs.problem(("people", i, "name"), f"person {person['name']!r} is listed twice "
                                    f"(also people[{first_at[person['name']]}]): list each person once"))
        first_at.setdefault(person["name"], i)
        for role in person["roles"]:
            holders.setdefault(role, set()).add(person["name"])
        for j, key in enumerate(person["keys"]):
            blob = key.split()[1]
            if blob in seen_keys and seen_keys[blob] != person["name"]:
                out.append(locs.problem(("people", i, "keys", j), f"the same key is listed for "
                                        f"{seen_keys[blob]!r} and {person['name']!r}: they count as one person"))
            seen_keys.setdefault(blob, person["name"])
    everyone = {p["name"] for p in data["people"]}
    for name, d in decisions.items():
        from peaktrade.policy.roles import Person, best_assignment

        people = [Person(p["name"], p["roles"], []) for p in data["people"]]
        _, missing = best_assignment(list(d["requires"]), people)
        if missing or len(d["requires"]) > len(everyone):
            out.append(locs.problem(("decisions", name, "requires"), f"{name} can never be approved: "
                                    f"not enough distinct people for {' + '.join(d['requires'])}",
                                    severity="warning"))
    return out


def check_policies(root: Root) -> list[Problem]:
    from peaktrade.errors import UsageError
    from peaktrade.policy.daily import parse_reset
    from peaktrade.policy.limits import consistency_warnings, limits_from_policy

    out: list[Problem] = []
    roles, stages, risk = _load(root, "roles"), _load(root, "stages"), _load(root, "risk-limits")
    if roles is not None:
        out += _roles_problems(roles)
    if stages is not None and roles is not None:
        for i, t in enumerate(stages.data["transitions"]):
            if t["decision"] not in roles.data["decisions"]:
                msg = f"decision {t['decision']!r} is not defined in policies/roles.yaml"
                out.append(stages.locations.problem(("transitions", i, "decision"), msg))
            if t["from"] == t["to"]:
                out.append(stages.locations.problem(("transitions", i, "to"), "a transition must change the stage"))
    if risk is not None:
        try:
            parse_reset(risk.data["daily_reset_timezone"], risk.data["daily_reset_time"])
        except UsageError:
            out.append(risk.locations.problem(("daily_reset_timezone",),
                                              f"unknown time zone {risk.data['daily_reset_timezone']!r}"))
            return out
        for stage in risk.data["stages"]:
            for w in consistency_warnings(limits_from_policy(risk.data, stage)):
                out.append(risk.locations.problem(("stages", stage), w, severity="warning"))
    return out
