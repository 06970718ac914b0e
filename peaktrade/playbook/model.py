"""The playbook model: dataclasses built from a validated playbook file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError
from peaktrade.hashing import sha256_bytes

if TYPE_CHECKING:
    from peaktrade.problems import Problem
    from peaktrade.root import Root

KINDS = ("run", "action", "confirm", "manual", "approve", "decide", "playbook")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any = None
    enum: list[Any] | None = None
    required: bool = False
    description: str = ""
    secret: bool = False  # declared `secret: true`: masked everywhere (playbook.redaction)

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    effect: str
    kind: str
    raw: dict[str, Any]
    when: str | None = None
    retries: dict[str, Any] | None = None
    timeout: float | None = None
    on_failure: Any = None
    note: str | None = None

    @property
    def body(self) -> Any:
        """The value under the kind's key (argv list, action name, question, ...)."""
        return self.raw[self.kind]


@dataclass(frozen=True)
class Playbook:
    name: str
    title: str
    runbook: int
    stage: str
    path: Path
    sha256: str
    description: str = ""
    params: dict[str, Param] = field(default_factory=dict)
    guards: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    on_failure: dict[str, Any] | None = None

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


def build(data: dict[str, Any], path: Path, sha256: str) -> Playbook:
    params = {
        name: Param(name, p["type"], p.get("default"), p.get("enum"), bool(p.get("required", False)),
                    p.get("description", ""), bool(p.get("secret", False)))
        for name, p in (data.get("params") or {}).items()
    }
    steps = []
    for s in data["steps"]:
        kind = next(k for k in KINDS if k in s)
        steps.append(Step(s["id"], s["title"], s["effect"], kind, s, s.get("when"), s.get("retries"),
                          s.get("timeout"), s.get("on_failure"), s.get("note")))
    return Playbook(data["name"], data["title"], data["runbook"], data["stage"], path, sha256,
                    data.get("description", ""), params, list(data.get("guards") or []), steps,
                    data.get("on_failure"))


def playbook_names(root: Root) -> list[str]:
    # only regular files: a folder or a dangling symlink named like a playbook is no playbook
    # ('peaktrade validate' reports it)
    return sorted(p.stem for p in root.playbooks_dir.glob("*.yaml") if p.is_file())


def _problems(root: Root, path: Path) -> tuple[list[Problem], Any]:
    from peaktrade.loader import load_yaml
    from peaktrade.validation import validate_playbook

    loaded = load_yaml(path, root.rel(path))
    problems = validate_playbook(root, path)
    return [p for p in problems if p.severity == "error"], loaded.data


def load_playbook(root: Root, name: str) -> Playbook:
    """Load and validate ``playbooks/<name>.yaml``; any error is a UsageError naming file:line:col."""
    path = root.playbook_file(name)
    if "/" in name or not path.is_file():
        names = playbook_names(root)
        raise UsageError(f"unknown playbook {name!r}", details=[f"available: {', '.join(names) or '(none)'}"])
    raw = path.read_bytes()
    problems, data = _problems(root, path)
    if problems or not isinstance(data, dict):
        raise UsageError(f"playbook {name!r} is invalid", details=[p.text() for p in problems])
    return build(data, path, sha256_bytes(raw))
