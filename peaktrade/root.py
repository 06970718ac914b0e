"""The deployment root (DESIGN 2) and where everything lives inside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from peaktrade.errors import UsageError

SHIPPED_DIRS = ("config", "playbooks", "policies", "schemas")


def defaults_dir() -> Path:
    """The shipped defaults: packaged copy in a wheel, else the source checkout's own root."""
    packaged = Path(__file__).parent / "_defaults"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Root:
    path: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Root:
        """``--root``, else ``PEAKTRADE_ROOT``, else the current directory or the nearest parent of it
        that is a deployment root (as git finds its repository from a subfolder)."""
        raw = explicit or os.environ.get("PEAKTRADE_ROOT")
        if not raw:
            cwd = Path.cwd()
            raw = str(next((d for d in (cwd, *cwd.parents) if (d / "config" / "config.toml").is_file()), cwd))
        try:
            path = Path(raw).expanduser().resolve()
        except (RuntimeError, OSError) as exc:  # '~nobody' (no such user), a symlink loop
            raise UsageError(f"deployment root {raw}: {exc}") from None
        if path.exists() and not path.is_dir():
            raise UsageError(f"deployment root {path} is not a directory")
        if not path.is_dir():
            raise UsageError(f"deployment root {path} does not exist (run 'peaktrade init {raw}')")
        if not (path / "config" / "config.toml").is_file():
            raise UsageError(
                f"{path} is not a deployment root: config/config.toml is missing "
                f"(run 'peaktrade init DIR', or pass --root / set PEAKTRADE_ROOT)"
            )
        return cls(path)

    def rel(self, p: Path) -> str:
        """A path relative to the root when inside it (for messages), else absolute."""
        try:
            return str(Path(p).resolve().relative_to(self.path))
        except (ValueError, OSError, RuntimeError):
            # a symlink out of the root, a dangling one, or a loop (RuntimeError before Python
            # 3.13): name the entry where it sits in the root
            try:
                return str(Path(os.path.abspath(p)).relative_to(self.path))
            except ValueError:
                return str(p)

    # --- layout (DESIGN 2) ---
    @cached_property
    def config_file(self) -> Path:
        return self.path / "config" / "config.toml"

    @cached_property
    def playbooks_dir(self) -> Path:
        return self.path / "playbooks"

    @cached_property
    def policies_dir(self) -> Path:
        return self.path / "policies"

    @cached_property
    def schemas_dir(self) -> Path:
        return self.path / "schemas"

    @cached_property
    def live_runs_dir(self) -> Path:
        return self.path / "live_runs"

    @cached_property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @cached_property
    def reports_dir(self) -> Path:
        return self.path / "reports"

    @cached_property
    def checklists_dir(self) -> Path:
        return self.path / "reports" / "checklists"

    @cached_property
    def incidents_dir(self) -> Path:
        return self.path / "reports" / "incidents"

    @cached_property
    def var_dir(self) -> Path:
        return self.path / "var"

    @cached_property
    def plays_dir(self) -> Path:
        return self.path / "var" / "plays"

    @cached_property
    def data_dir(self) -> Path:
        return self.path / "data"

    @cached_property
    def operations_log(self) -> Path:
        return self.path / "logs" / "operations.log"

    def policy_file(self, name: str) -> Path:
        return self.policies_dir / f"{name}.yaml"

    def playbook_file(self, name: str) -> Path:
        return self.playbooks_dir / f"{name}.yaml"
