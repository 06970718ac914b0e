"""The one loader: YAML (CSafeLoader) and TOML, with the location of every value.

``load_yaml`` returns the data and a ``Locations`` map from JSON-path tuples to (line, col),
1-based, so that any later check (schema, semantics) can name file:line:col. Duplicate mapping
keys and non-string keys are problems, not silent overwrites. Nothing here raises for bad input:
problems are returned, data is ``None`` when the document could not be read at all.

Input is bounded before anything else looks at it (docs/design-decisions.md, "Bounded input"):
a file larger than ``MAX_BYTES``, nested deeper than ``MAX_DEPTH`` or holding more than
``MAX_NODES`` values is refused with a located problem, and YAML anchors/aliases are refused
outright, so an alias bomb never expands and a deep document never reaches a recursive checker.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from peaktrade.problems import Problem, clip, json_path

try:  # the C loader is much faster; fall back if libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024  # the largest shipped file is a few KB; a runbook never needs a megabyte
MAX_DEPTH = 40  # a playbook nests ~6 levels (steps -> step -> with -> ...); 40 is generous
MAX_NODES = 100_000  # values in one document (the size cap alone would still allow ~500,000)


class _TooBig(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


@dataclass
class Locations:
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: Path_ | list[str | int]) -> tuple[int, int]:
        """Location of ``path`` or of its nearest located ancestor."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: Path_ | list[str | int], message: str, *, step: str | None = None,
                severity: str = "error") -> Problem:
        line, col = self.at(path)
        return Problem(self.file, line, col, json_path(list(path)), message, step, severity)


@dataclass
class Loaded:
    data: Any
    locations: Locations
    problems: list[Problem]
    text: str = ""


def _walk(node: yaml.Node, path: Path_, locs: Locations, problems: list[Problem], seen: set[int]) -> None:
    if id(node) in seen:  # aliases are refused before this; a repeat is still visited only once
        return
    seen.add(id(node))
    if len(path) > MAX_DEPTH:
        raise _TooBig(Problem(locs.file, node.start_mark.line + 1, node.start_mark.column + 1,
                              json_path(list(path[:MAX_DEPTH])), f"nested deeper than {MAX_DEPTH} levels"))
    if len(seen) > MAX_NODES:
        raise _TooBig(Problem(locs.file, node.start_mark.line + 1, node.start_mark.column + 1,
                              json_path(list(path)), f"more than {MAX_NODES} values in one document"))
    if isinstance(node, yaml.MappingNode):
        keys: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            kmark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key_node.tag == "tag:yaml.org,2002:merge":
                _walk(value_node, path, locs, problems, seen)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Problem(locs.file, *kmark, json_path(list(path)),
                                        f"mapping key {key_node.value!r} must be a string"))
                continue
            if key in keys:
                first = keys[key].start_mark.line + 1
                problems.append(Problem(locs.file, *kmark, json_path([*path, key]),
                                        f"duplicate key {key!r} (first defined on line {first})"))
            keys[key] = key_node
            child = (*path, key)
            locs.marks.setdefault(child, kmark)
            _walk(value_node, child, locs, problems, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            locs.marks.setdefault(child, (item.start_mark.line + 1, item.start_mark.column + 1))
            _walk(item, child, locs, problems, seen)


def _aliases(text: str, file: str) -> list[Problem]:
    """Anchors and aliases, located. Refused rather than capped: a runbook has no need for them, and
    refusing them means no document is ever larger in memory than it is on disk."""
    if "&" not in text and "*" not in text:  # neither can occur without its marker character
        return []
    found: list[Problem] = []
    for event in yaml.parse(text, Loader=_Loader):
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent) or anchor:
            what = f"alias *{anchor}" if isinstance(event, yaml.AliasEvent) else f"anchor &{anchor}"
            found.append(Problem(file, event.start_mark.line + 1, event.start_mark.column + 1, "$",
                                 f"YAML anchors and aliases are not allowed ({clip(what, 60)}); "
                                 "write the value out"))
            if len(found) >= 5:  # enough to find them; a bomb has thousands
                break
    return found


def parse_yaml(text: str, file: str) -> Loaded:
    locs = Locations(file)
    problems: list[Problem] = []
    try:
        if refused := _aliases(text, file):
            return Loaded(None, locs, refused, text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return Loaded(None, locs, [Problem(file, 1, 1, "$", "document is empty")], text)
            locs.marks[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
            _walk(node, (), locs, problems, set())
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except _TooBig as exc:
        return Loaded(None, locs, [exc.problem], text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x) or str(exc)
        return Loaded(None, locs, [Problem(file, line, col, "$", f"YAML syntax error: {msg}")], text)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError) as exc:
        return Loaded(None, locs, [Problem(file, 1, 1, "$", f"YAML error: {exc}")], text)
    return Loaded(data, locs, problems, text)


def _read(path: Path, file: str) -> tuple[str | None, Problem | None]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # never more: a 5 GB file must not be read to be refused
        if len(raw) > MAX_BYTES:
            return None, Problem(file, 1, 1, "$", f"file is larger than {MAX_BYTES // 1024} KB; refused unread")
        return raw.decode("utf-8"), None
    except FileNotFoundError:
        return None, Problem(file, 1, 1, "$", "file not found")
    except UnicodeDecodeError as exc:
        return None, Problem(file, 1, 1, "$", f"not UTF-8 text: {exc.reason} at byte {exc.start}")
    except OSError as exc:
        return None, Problem(file, 1, 1, "$", f"cannot read: {exc.strerror}")


def load_yaml(path: Path, display: str | None = None) -> Loaded:
    file = display or str(path)
    text, problem = _read(path, file)
    if problem:
        return Loaded(None, Locations(file), [problem])
    return parse_yaml(text or "", file)


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def _toml_locations(text: str, file: str) -> Locations:
    """Line numbers for TOML keys (tomllib gives none): table headers and ``key =`` lines."""
    locs = Locations(file)
    table: tuple[str, ...] = ()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if m := _TABLE.match(line):
            table = tuple(part.strip().strip("\"'") for part in m.group(1).split("."))
            locs.marks.setdefault(table, (lineno, line.index("[") + 1))
        elif m := _KEY.match(line):
            key = tuple(part.strip().strip("\"'") for part in m.group(1).split("."))
            locs.marks.setdefault((*table, *key), (lineno, m.start(1) + 1))
    locs.marks.setdefault((), (1, 1))
    return locs


def load_toml(path: Path, display: str | None = None) -> Loaded:
    file = display or str(path)
    text, problem = _read(path, file)
    if problem:
        return Loaded(None, Locations(file), [problem])
    try:
        data = tomllib.loads(text or "")
    except RecursionError:  # tomllib recurses on nested inline arrays/tables
        return Loaded(None, Locations(file), [Problem(file, 1, 1, "$", f"nested deeper than {MAX_DEPTH} levels")],
                      text or "")
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        msg = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        return Loaded(None, Locations(file), [Problem(file, line, col, "$", f"TOML syntax error: {msg}")], text or "")
    locs = _toml_locations(text or "", file)
    if (deep := too_deep(data)) is not None:
        return Loaded(None, locs, [locs.problem(deep, f"nested deeper than {MAX_DEPTH} levels")], text or "")
    return Loaded(data, locs, [], text or "")


def too_deep(data: Any, limit: int = MAX_DEPTH) -> Path_ | None:
    """The path (cut at ``limit``) of a value nested deeper than ``limit``, else None. Iterative, so
    it is safe on the very input it guards against."""
    stack: list[tuple[Path_, Any]] = [((), data)]
    seen: set[int] = set()
    while stack:
        path, value = stack.pop()
        if isinstance(value, (dict, list)) and id(value) not in seen:
            if len(path) > limit:
                return path[:limit]
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*path, k), v) for k, v in items)
    return None


def load_any(path: Path, display: str | None = None) -> Loaded:
    return load_toml(path, display) if path.suffix == ".toml" else load_yaml(path, display)
