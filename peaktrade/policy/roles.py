"""People, roles, keys and the decision matrix (policies/roles.yaml)."""

from __future__ import annotations

from dataclasses import dataclass

from peaktrade.errors import UsageError
from peaktrade.root import Root


@dataclass(frozen=True)
class Person:
    name: str
    roles: list[str]
    keys: list[str]


@dataclass(frozen=True)
class Decision:
    name: str
    requires: list[str]  # one slot per signer: a role, or "any"
    allow_requester: bool = False
    max_validity_hours: float | None = None
    description: str = ""

    def describe(self) -> str:
        return " + ".join("one other person" if r == "any" else r for r in self.requires)


@dataclass(frozen=True)
class Roles:
    people: dict[str, Person]
    decisions: dict[str, Decision]

    def decision(self, name: str) -> Decision:
        if name not in self.decisions:
            known = ", ".join(sorted(self.decisions))
            raise UsageError(f"unknown decision {name!r} (policies/roles.yaml has: {known})")
        return self.decisions[name]

    def allowed_signers(self, namespace: str) -> str:
        """The ``ssh-keygen -Y verify`` allowed-signers file: one line per person and key."""
        lines = []
        for p in self.people.values():
            for key in p.keys:
                key_type, blob = key.split()[:2]
                lines.append(f'{p.name} namespaces="{namespace}" {key_type} {blob}')
        return "\n".join(lines) + "\n"


def load_roles(root: Root) -> Roles:
    from peaktrade.policy.files import load_policy

    return roles_from_data(load_policy(root, "roles"))


def roles_from_data(data: dict) -> Roles:
    people: dict[str, Person] = {}
    for p in data["people"]:
        if p["name"] in people:
            raise UsageError(f"policies/roles.yaml lists {p['name']!r} twice")
        people[p["name"]] = Person(p["name"], list(p["roles"]), list(p["keys"]))
    decisions = {
        name: Decision(name, list(d["requires"]), bool(d.get("allow_requester", False)),
                       d.get("max_validity_hours"), d.get("description", ""))
        for name, d in data["decisions"].items()
    }
    return Roles(people, decisions)


def best_assignment(requires: list[str], signers: list[Person]) -> tuple[list[Person | None], list[str]]:
    """Fill the decision's slots with distinct signers: (filled slots, roles of the slots left empty)."""
    from itertools import permutations

    best: list[Person | None] = [None] * len(requires)
    best_n = -1
    n = len(requires)
    pool = signers[:8]  # a decision has a handful of slots; more signers cannot fill more of them
    for combo in permutations(pool + [None] * n, n):
        filled = [s if s is not None and (r == "any" or r in s.roles) else None
                  for r, s in zip(requires, combo, strict=True)]
        count = sum(s is not None for s in filled)
        if count > best_n:
            best, best_n = filled, count
            if count == n:
                break
    return best, [r for r, s in zip(requires, best, strict=True) if s is None]
