"""`peaktrade policy diff`: every changed policy field, classified by its schema's ``x-tighter``.

``x-tighter`` says which direction makes a field stricter: ``lower`` / ``higher`` (numbers), ``false`` /
``true`` (booleans), ``more`` (lists: more required entries), ``fewer`` (lists: each entry grants
something, e.g. a person's roles or keys; absent = empty). A field without it is neutral. A limit
removed is a loosening (it is no longer enforced), unless its schema default says otherwise; a limit
added is a tightening. A loosening of more than 25 % in one step is flagged.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

from peaktrade.errors import UsageError
from peaktrade.root import Root

FLAG_PCT = 25.0
_ABSENT = object()


@dataclass(frozen=True)
class Change:
    file: str
    path: str
    kind: str  # changed | added | removed
    direction: str  # tightened | loosened | neutral
    old: Any = None
    new: Any = None
    pct: float | None = None  # relative change of a number, in %
    flagged: bool = False  # a loosening of more than 25 % in one step

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _git(root: Root, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root.path), *args], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise UsageError("git is not installed: policy diff needs it") from None


def base_files(root: Root, ref: str) -> dict[str, str]:
    """{file name: text} of policies/*.yaml at ``ref``."""
    if ref.startswith("-"):
        raise UsageError(f"--base {ref!r} is not a git ref")
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise UsageError(f"{root.path} is not inside a git repository: policy diff compares with a git ref")
    check = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if check.returncode != 0:
        raise UsageError(f"--base {ref!r} is not a commit in the git repository at {root.path}")
    listing = _git(root, "ls-tree", "--name-only", ref, "policies/")
    out = {}
    for line in listing.stdout.splitlines():
        name = line.rsplit("/", 1)[-1]
        if name.endswith(".yaml"):
            out[name] = _git(root, "show", f"{ref}:./policies/{name}").stdout
    return out


def _key(item: Any) -> str | None:
    if isinstance(item, dict):
        if isinstance(item.get("name"), str):
            return item["name"]
        if "from" in item and "to" in item:
            return f"{item['from']}->{item['to']}"
        if isinstance(item.get("id"), str):
            return item["id"]
    return None


def flatten(value: Any, path: tuple = ()) -> dict[tuple, Any]:
    """Leaves by path; lists of named mappings are keyed by name, other lists are one leaf."""
    if isinstance(value, dict):
        out: dict[tuple, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, (*path, k)))
        return out or ({path: {}} if path else {})
    if isinstance(value, list) and value and all(_key(v) is not None for v in value):
        out = {}
        for v in value:
            out.update(flatten(v, (*path, _key(v))))
        return out
    return {path: value}


def _resolve(node: dict, doc: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {})
        node = target
    return node if isinstance(node, dict) else {}


def field_schema(schema: dict, path: tuple) -> dict:
    node = _resolve(schema, schema)
    for part in path:
        if isinstance(node.get("items"), dict) and "properties" not in node:  # a list entry, by index or name
            node = _resolve(node["items"], schema)
            continue
        props = node.get("properties", {})
        if part in props:
            node = _resolve(props[part], schema)
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(node["additionalProperties"], schema)
        else:
            return {}
    return node


def _shown(v: Any) -> Any:
    return str(v) if isinstance(v, float) and not math.isfinite(v) else v


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def classify(file: str, path: tuple, old: Any, new: Any, fs: dict) -> Change:
    from peaktrade.problems import json_path

    kind = "added" if old is _ABSENT else "removed" if new is _ABSENT else "changed"
    tighter = fs.get("x-tighter")
    shown_old, shown_new = (None if old is _ABSENT else old), (None if new is _ABSENT else new)
    jp = json_path(list(path))
    if tighter is None:
        return Change(file, jp, kind, "neutral", shown_old, shown_new)
    if tighter == "fewer":
        return _classify_grants(file, jp, kind, old, new)
    a = fs["default"] if old is _ABSENT and "default" in fs else old
    b = fs["default"] if new is _ABSENT and "default" in fs else new
    if a is _ABSENT or b is _ABSENT:  # a limit with no default: absent = not enforced
        direction = "tightened" if a is _ABSENT else "loosened"
        return Change(file, jp, kind, direction, shown_old, shown_new, None, direction == "loosened")
    if _num(a) and _num(b) and not (math.isfinite(a) and math.isfinite(b)):
        # NaN compares false with everything and inf is no bound: such a limit blocks nothing. Shown as
        # text, since JSON has neither (schema validation rejects the file as well).
        direction = "loosened" if not math.isfinite(b) else "tightened"
        shown_old, shown_new = (_shown(v) for v in (shown_old, shown_new))
        return Change(file, jp, kind, direction, shown_old, shown_new, None, direction == "loosened")
    pct, direction = None, "neutral"
    if tighter in ("lower", "higher") and _num(a) and _num(b) and a != b:
        pct = (b - a) / abs(a) * 100 if a else None  # from 0 there is no percentage (and JSON has no inf)
        direction = "tightened" if (b < a) == (tighter == "lower") else "loosened"
    elif tighter in ("false", "true") and isinstance(b, bool) and a != b:
        direction = "tightened" if str(b).lower() == tighter else "loosened"
    elif tighter == "more" and isinstance(a, list) and isinstance(b, list) and len(a) != len(b):
        direction = "tightened" if len(b) > len(a) else "loosened"
    flagged = direction == "loosened" and (pct is None or abs(pct) > FLAG_PCT)
    if direction == "loosened" and tighter in ("false", "true", "more"):
        flagged = True  # a switch or a required signer has no "small" loosening
    return Change(file, jp, kind, direction, shown_old, shown_new, pct, flagged)


def _classify_grants(file: str, jp: str, kind: str, old: Any, new: Any) -> Change:
    """A list whose entries each grant something: removing entries tightens, adding any loosens (flagged)."""
    before = set(map(str, old)) if isinstance(old, list) else set()
    after = set(map(str, new)) if isinstance(new, list) else set()
    shown_old, shown_new = (None if old is _ABSENT else old), (None if new is _ABSENT else new)
    if before == after:
        return Change(file, jp, kind, "neutral", shown_old, shown_new)
    direction = "loosened" if after - before else "tightened"
    return Change(file, jp, kind, direction, shown_old, shown_new, None, direction == "loosened")


def diff_texts(file: str, base_text: str | None, new_text: str | None, schema: dict) -> list[Change]:
    from peaktrade.loader import parse_yaml

    def data(text: str | None, which: str) -> Any:
        if text is None:
            return {}
        loaded = parse_yaml(text, f"{which}:{file}")
        if loaded.data is None:
            raise UsageError(f"{which} {file} cannot be parsed", details=[p.text() for p in loaded.problems])
        return loaded.data

    old, new = flatten(data(base_text, "base")), flatten(data(new_text, "working tree"))
    changes = []
    for path in sorted(set(old) | set(new), key=lambda p: [str(x) for x in p]):
        a, b = old.get(path, _ABSENT), new.get(path, _ABSENT)
        if a != b:
            changes.append(classify(file, path, a, b, field_schema(schema, path)))
    return changes
