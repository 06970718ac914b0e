"""Which files a validation covers, what kind each is, and the policy and config checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from peaktrade.loader import load_toml
from peaktrade.problems import Problem
from peaktrade.root import Root
from peaktrade.validation.schema_errors import schema_problems
from peaktrade.validation.workspace import Workspace

_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


def default_files(root: Root) -> list[Path]:
    """config.toml and every ``*.yaml`` entry of playbooks/ and policies/ - also one that is not a
    regular file (a folder, a dangling or looping symlink), so that it is reported, not skipped."""
    files = [root.config_file]
    for folder in (root.playbooks_dir, root.policies_dir):
        files += sorted(folder.glob("*.yaml"))
    return files


def not_a_file(p: Path) -> str:
    """Why ``p`` (which is not a regular file) cannot be validated."""
    if p.is_dir():
        return "not a file but a folder"
    if p.is_symlink():
        try:
            p.resolve(strict=True)
        except RuntimeError:  # Python < 3.13 reports a loop this way
            return "symlink loop"
        except OSError as exc:
            return "symlink loop" if "loop" in str(exc).lower() else "broken symlink (its target does not exist)"
    if p.exists():
        return "not a regular file"
    return "file not found"


def _entry_name(root: Root, p: Path) -> str:
    """The entry as it sits in the root (a broken symlink is named, not its missing target)."""
    import os

    try:
        return str(Path(os.path.abspath(p)).relative_to(root.path))
    except ValueError:
        return root.rel(p)


def expand(root: Root, paths: list[Path] | None) -> Iterator[tuple[Path, Problem | None]]:
    """Files to validate; a path that does not exist is a located problem, not an exception."""
    if not paths:
        for p in default_files(root):
            if p.is_file():
                yield p, None
            else:
                yield p, Problem(_entry_name(root, p), 1, 1, "$", not_a_file(p))
        return
    for raw in paths:
        p = Path(raw)
        if not str(raw).strip():  # Path("") is ".", which would mean "everything below the cwd"
            yield p, Problem("<empty path>", 1, 1, "$", "an empty path names no file")
            continue
        try:
            yield from _expand_one(root, p)
        except (OSError, ValueError) as exc:  # a name too long, a folder we may not list, ...
            yield p, Problem(str(raw)[:200], 1, 1, "$", f"cannot read: {getattr(exc, 'strerror', None) or exc}")


def _expand_one(root: Root, p: Path) -> list[tuple[Path, Problem | None]]:
    if p.is_dir():
        # hidden folders (.git, .venv, ...) hold other tools' files, never the desk's
        # hidden folders (.git, .venv, ...) hold other tools' files, never the desk's; in a folder,
        # files that are none of ours (a CI workflow, pyproject.toml) are left alone
        found = sorted(f for f in p.rglob("*") if f.suffix in _SUFFIXES and f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(p).parts)
                       and classify(f, named=False) is not None)
        if not found:
            return [(p, Problem(root.rel(p), 1, 1, "$", "folder holds no .yaml, .toml or .schema.json files"))]
        return [(f, None) for f in found]
    if p.is_file():
        return [(p, None)]
    return [(p, Problem(_entry_name(root, p), 1, 1, "$", not_a_file(p)))]


def classify(path: Path, *, named: bool = True) -> str | None:
    """playbook | policy | config | schema, from where the file sits (fixture folders follow the same names).

    A .toml file named on the command line is a config; found in a folder, only ``config.toml`` or
    one inside a ``config/`` folder is (``pyproject.toml`` is not the desk's).
    """
    if path.suffix == ".toml":
        return "config" if named or path.name == "config.toml" or path.parent.name == "config" else None
    if path.name.endswith(".schema.json"):
        return "schema"
    if path.suffix == ".json":
        return None
    parts = Path(path).resolve().parent.parts
    for part in reversed(parts):
        if part == "playbooks":
            return "playbook"
        if part == "policies":
            return "policy"
    return None


def policy_schema_name(path: Path) -> str:
    """``risk-limits.yaml`` -> ``risk-limits``; test fixtures may add a case after ``--``
    (``risk-limits--negative-limit.yaml``) and are checked against the same schema."""
    return path.stem.split("--", 1)[0]


def check_policy(ws: Workspace, path: Path) -> list[Problem]:
    from peaktrade import schemas

    loaded = ws.load(path)
    problems = list(loaded.problems)
    data, locs = loaded.data, loaded.locations
    if data is None and problems:
        return problems
    if not isinstance(data, dict):
        kind = {list: "a list", type(None): "null"}.get(type(data), f"a {type(data).__name__}")
        return [*problems, locs.problem((), f"a policy file must be a mapping, not {kind}")]
    name = policy_schema_name(path)
    if not schemas.schema_path(name).is_file():
        problems.append(locs.problem((), f"no schema for policy {name!r} (schemas/{name}.schema.json): "
                                         "not checked beyond YAML syntax", severity="warning"))
        return problems
    validator = _validator(name)
    if isinstance(validator, str):
        problems.append(locs.problem((), validator))
        return problems
    return problems + schema_problems(data, validator, locs)


def check_config(root: Root, path: Path) -> list[Problem]:
    loaded = load_toml(path, root.rel(path))
    if loaded.data is None:
        return list(loaded.problems)
    validator = _validator("config")
    if isinstance(validator, str):
        return [*loaded.problems, loaded.locations.problem((), validator)]
    return [*loaded.problems, *schema_problems(loaded.data, validator, loaded.locations)]


def _validator(name: str):
    """The shared validator for ``name``, or a message when the schema itself is broken."""
    from peaktrade import schemas

    try:
        return schemas.validator(name)
    except Exception as exc:  # noqa: BLE001 - a broken schema file is reported, not raised
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"schema schemas/{name}.schema.json is itself invalid: {first}"


def check_schema_file(root: Root, path: Path) -> list[Problem]:
    """A JSON Schema file is valid JSON and a valid 2020-12 schema (only when named explicitly:
    the metaschema check costs ~40 ms per schema, and the test suite runs it for the shipped ones)."""
    import json

    from jsonschema import Draft202012Validator

    from peaktrade.loader import parse_yaml

    display = root.rel(path)
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except json.JSONDecodeError as exc:
        return [Problem(display, exc.lineno, exc.colno, "$", f"JSON syntax error: {exc.msg}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(display, 1, 1, "$", f"cannot read: {exc}")]
    loaded = parse_yaml(text, display)  # JSON is YAML: this gives every value its line and column
    if loaded.data is None:
        return list(loaded.problems)
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    return [*loaded.problems, *schema_problems(loaded.data, meta, loaded.locations)]
