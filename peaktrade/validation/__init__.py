"""`peaktrade validate`: files -> located problems (YAML/TOML syntax, schema, semantic checks).

Nothing here raises for bad input: every mistake, including a missing file, comes back as a
``Problem`` naming file:line:col, the JSON path and the step id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from peaktrade.problems import Problem
from peaktrade.root import Root


@dataclass
class Report:
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def _workspace(root: Root):
    from peaktrade.validation.workspace import Workspace

    return Workspace(root)


def validate_playbook(root: Root, path: Path, *, _ws=None) -> list[Problem]:
    """Every problem of one playbook file (syntax, schema, semantics)."""
    from peaktrade.validation.playbook import check_playbook

    return _guarded(root, path, lambda: check_playbook(_ws or _workspace(root), Path(path)))


def validate_policy(root: Root, path: Path, *, _ws=None) -> list[Problem]:
    """Every problem of one policy file, against schemas/<name>.schema.json."""
    from peaktrade.validation.files import check_policy

    return _guarded(root, path, lambda: check_policy(_ws or _workspace(root), Path(path)))


def validate_config(root: Root, path: Path | None = None) -> list[Problem]:
    """Every problem of config/config.toml (or another TOML config file)."""
    from peaktrade.validation.files import check_config

    target = Path(path) if path is not None else root.config_file
    return _guarded(root, target, lambda: check_config(root, target))


def validate_files(root: Root, paths: list[Path] | None = None) -> Report:
    """Validate ``paths`` (files or folders; default: the whole deployment root)."""
    from peaktrade.validation.files import classify, expand

    ws = _workspace(root)
    report = Report()
    for path, problem in expand(root, paths):
        if problem is not None:
            report.problems.append(problem)
            continue
        report.files.append(root.rel(path))
        kind = classify(path)
        if kind == "playbook":
            report.problems += validate_playbook(root, path, _ws=ws)
        elif kind == "policy":
            report.problems += validate_policy(root, path, _ws=ws)
        elif kind == "config":
            report.problems += validate_config(root, path)
        elif kind == "schema":
            from peaktrade.validation.files import check_schema_file

            report.problems += _guarded(root, path, lambda p=path: check_schema_file(root, p))
        else:
            report.problems.append(Problem(
                root.rel(path), 1, 1, "$",
                "cannot tell what this file is: expected a playbook in a playbooks/ folder, "
                "a policy in a policies/ folder, a .toml config or a .schema.json schema"))
    report.problems += _policy_semantics(root, report.files)
    report.problems = sorted(set(report.problems))
    return report


def _policy_semantics(root: Root, files: list[str]) -> list[Problem]:
    """Checks across the policy files (peaktrade.policy.semantics), for the policy files validated here."""
    policy_files = {f for f in files if f.startswith("policies/")}
    if not policy_files:
        return []
    from peaktrade.policy.semantics import check_policies

    found = _guarded(root, root.policies_dir, lambda: check_policies(root))
    return [p for p in found if p.file in policy_files or p.file == "policies"]


def validate_paths(root: Root, paths: list[Path] | None = None) -> list[Problem]:
    """Problems of ``paths`` (default: config/config.toml, playbooks/*.yaml, policies/*.yaml)."""
    return validate_files(root, paths).problems


MAX_PROBLEMS = 100  # per file: beyond this a hostile or broken file only floods the output


def _bounded(root: Root, path: Path, problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    kept = sorted(problems)[:MAX_PROBLEMS]
    errors = sum(p.severity == "error" for p in problems[MAX_PROBLEMS:])
    more = Problem(kept[0].file if kept else root.rel(path), kept[-1].line if kept else 1, 1, "$",
                   f"... and {len(problems) - MAX_PROBLEMS} more problem(s) in this file "
                   f"({errors} error(s)); only the first {MAX_PROBLEMS} are shown",
                   severity="error" if errors else "warning")
    return [*kept, more]


def _guarded(root: Root, path: Path, fn) -> list[Problem]:
    """A bug in a check must not hide the other files' results: report it as a problem."""
    try:
        return _bounded(root, path, fn())
    except RecursionError:
        return [Problem(root.rel(path), 1, 1, "$", "document is nested too deeply to validate")]
    except Exception as exc:  # noqa: BLE001 - validation never crashes on a file; the bug is named
        return [Problem(root.rel(path), 1, 1, "$", f"internal validation error: {type(exc).__name__}: {exc}")]


__all__ = ["Report", "validate_config", "validate_files", "validate_paths", "validate_playbook",
           "validate_policy"]
