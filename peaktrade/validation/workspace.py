"""What one validation run shares between files: the root, loaded files, the policy decisions.

Loading a playbook once and reusing it keeps cross-file checks (referenced playbooks, recursion)
cheap; the cache lives for one ``validate`` call only, so edits are always seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peaktrade.loader import Loaded, load_yaml
from peaktrade.root import Root


@dataclass
class Workspace:
    root: Root
    _loaded: dict[Path, Loaded] = field(default_factory=dict)
    _decisions: Any = None
    _decisions_read: bool = False

    def display(self, path: Path) -> str:
        return self.root.rel(path)

    def load(self, path: Path) -> Loaded:
        key = Path(path).resolve()
        if key not in self._loaded:
            self._loaded[key] = load_yaml(key, self.display(key))
        return self._loaded[key]

    def find_playbook(self, name: str, near: Path) -> Path | None:
        """A referenced playbook: a sibling of the referring file first, then the root's playbooks/."""
        for folder in (Path(near).resolve().parent, self.root.playbooks_dir):
            candidate = folder / f"{name}.yaml"
            if candidate.is_file():
                return candidate
        return None

    def decisions(self) -> set[str] | None:
        """Decision names of policies/roles.yaml, or None when that file is absent or unreadable
        (then approvals cannot be checked statically; the file's own validation reports why)."""
        if not self._decisions_read:
            self._decisions_read = True
            path = self.root.policy_file("roles")
            if path.is_file():
                data = self.load(path).data
                if isinstance(data, dict) and isinstance(data.get("decisions"), dict):
                    self._decisions = {str(k) for k in data["decisions"]}
        return self._decisions


def playbook_refs(data: Any) -> list[tuple[tuple, str]]:
    """(path, name) of every playbook a playbook calls: `playbook:` steps and on_failure playbooks."""
    refs: list[tuple[tuple, str]] = []
    if not isinstance(data, dict):
        return refs
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("playbook"), str):
            refs.append((("steps", i, "playbook"), step["playbook"]))
        on_failure = step.get("on_failure")
        if isinstance(on_failure, dict) and isinstance(on_failure.get("playbook"), str):
            refs.append((("steps", i, "on_failure", "playbook"), on_failure["playbook"]))
    on_failure = data.get("on_failure")
    if isinstance(on_failure, dict) and isinstance(on_failure.get("playbook"), str):
        refs.append((("on_failure", "playbook"), on_failure["playbook"]))
    return refs
