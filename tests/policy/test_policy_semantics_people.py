"""roles.yaml: a person listed twice under one name is an error (their keys and roles would be merged
or lost, and "distinct people" could not be judged)."""

from __future__ import annotations

from peaktrade.policy.semantics import check_policies


def test_person_listed_twice_is_an_error(root, set_yaml):
    set_yaml("roles", "  - name: bob\n", "  - name: alice\n")
    problems = [p.text() for p in check_policies(root) if p.severity == "error"]
    assert problems == ["policies/roles.yaml:13:5: $.people[1].name: person 'alice' is listed twice "
                        "(also people[0]): list each person once"]
