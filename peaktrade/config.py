"""The deployment configuration (``config/config.toml``), loaded and schema-checked once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peaktrade.errors import UsageError
from peaktrade.root import Root


@dataclass(frozen=True)
class Config:
    data: dict[str, Any]

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def mode(self) -> str:
        return self.data["environment"]["mode"]

    @property
    def exchange_type(self) -> str:
        return self.data["exchange"]["default_type"]


def load_config(root: Root) -> Config:
    """Load and validate ``config/config.toml``; invalid config is a usage error with locations."""
    from peaktrade import schemas
    from peaktrade.loader import load_toml

    loaded = load_toml(root.config_file, root.rel(root.config_file))
    problems = list(loaded.problems)
    if loaded.data is not None:
        problems += schemas.check(loaded.data, "config", loaded.locations)
    if problems:
        raise UsageError("config/config.toml is invalid", details=[p.text() for p in problems])
    return Config(loaded.data)
