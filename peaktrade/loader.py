"""The one loader: YAML (CSafeLoader) and TOML, with the location of every value.

``load_yaml`` returns the data and a ``Locations`` map from JSON-path tuples to (line, col),
1-based, so that any later check (schema, semantics) can name file:line:col. Duplicate mapping
keys and non-string keys are problems, not silent overwrites. Nothing here raises for bad input:
problems are returned, data is ``None`` when the document could not be read at all.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from peaktrade.problems import Problem, json_path

try:  # the C loader is much faster; fall back if libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]


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
    if id(node) in seen:  # aliases may repeat a node; one visit is enough
        return
    seen.add(id(node))
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


def parse_yaml(text: str, file: str) -> Loaded:
    locs = Locations(file)
    problems: list[Problem] = []
    try:
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
        return path.read_text(encoding="utf-8"), None
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
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        msg = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        return Loaded(None, Locations(file), [Problem(file, line, col, "$", f"TOML syntax error: {msg}")], text or "")
    return Loaded(data, _toml_locations(text or "", file), [], text or "")


def load_any(path: Path, display: str | None = None) -> Loaded:
    return load_toml(path, display) if path.suffix == ".toml" else load_yaml(path, display)
