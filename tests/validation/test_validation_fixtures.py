"""Every invalid fixture fails with exactly the messages beside it; valid ones and the shipped tree pass.

A new case is a new file: ``<case>.yaml`` plus ``<case>.expected`` (error lines, in order).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from peaktrade.validation import validate_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INVALID_PLAYBOOKS = sorted((FIXTURES / "playbooks" / "invalid").glob("*.yaml"))
VALID_PLAYBOOKS = sorted((FIXTURES / "playbooks" / "valid").glob("*.yaml"))
GENERIC_POLICIES = sorted((FIXTURES / "policies" / "invalid").glob("generic--*.yaml"))


def _errors(root, path: Path) -> list[str]:
    report = validate_files(root, [path])
    return [p.text() for p in report.errors]


def test_there_are_enough_cases():
    assert len(INVALID_PLAYBOOKS) >= 15
    assert len(VALID_PLAYBOOKS) >= 3


@pytest.mark.parametrize("path", INVALID_PLAYBOOKS + GENERIC_POLICIES, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_the_expected_errors(repo_root, path: Path):
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert expected, f"{path.name}: the .expected file is empty"
    assert _errors(repo_root, path) == expected


@pytest.mark.parametrize("path", VALID_PLAYBOOKS, ids=lambda p: p.stem)
def test_valid_fixture_has_no_problems(repo_root, path: Path):
    assert validate_files(repo_root, [path]).problems == []


def test_shipped_tree_validates_clean(repo_root):
    report = validate_files(repo_root)
    assert [p.text() for p in report.errors] == []
    assert "config/config.toml" in report.files
    assert {"playbooks/health-check.yaml", "playbooks/shutdown.yaml", "playbooks/shutdown-emergency.yaml",
            "playbooks/restart-after-maintenance.yaml"} <= set(report.files)


def test_fresh_copy_of_the_defaults_validates_clean(deploy):
    from peaktrade.root import Root

    report = validate_files(Root(deploy))
    assert [p.text() for p in report.errors] == []
