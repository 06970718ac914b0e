"""Invalid policy files: each fails `peaktrade validate` with exactly the located message beside it.

A new case is a new file: tests/fixtures/policies/invalid/<policy>--<case>.yaml + .expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = sorted(p for p in (REPO / "tests" / "fixtures" / "policies" / "invalid").glob("*.yaml")
               if p.stem.split("--")[0] in ("risk-limits", "stages", "roles"))


def test_every_policy_has_cases():
    assert {p.stem.split("--")[0] for p in CASES} == {"risk-limits", "stages", "roles"}
    assert len(CASES) >= 12


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_invalid_policy_reports_exactly_the_expected_errors(path):
    from peaktrade.root import Root
    from peaktrade.validation import validate_files

    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert expected
    report = validate_files(Root(REPO), [path])
    assert [p.text() for p in report.errors] == expected


@pytest.mark.parametrize("name", ["risk-limits", "stages", "roles"])
def test_the_runtime_loader_refuses_the_same_files(root, name):
    """What validate flags, the engine refuses to run with (fail closed), naming the file."""
    from peaktrade.errors import UsageError
    from peaktrade.policy.files import load_policy

    case = next(p for p in CASES if p.stem.startswith(f"{name}--"))
    root.policy_file(name).write_text(case.read_text())
    with pytest.raises(UsageError, match=rf"policies/{name}.yaml is invalid") as exc:
        load_policy(root, name)
    assert exc.value.details and exc.value.details[0].startswith(f"policies/{name}.yaml:")
