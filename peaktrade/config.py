"""The deployment configuration (``config/config.toml``), loaded and schema-checked once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from peaktrade.errors import UsageError
from peaktrade.redact import register_secret_env
from peaktrade.root import Root
from peaktrade.snapshot import remembered


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
    """Load and validate ``config/config.toml``; invalid config is a usage error with locations. Within a
    play, the config the play started with (``snapshot``): loaded once, or blocked when it changed since."""
    return remembered(root, root.config_file, lambda: _load_config(root))


def _load_config(root: Root) -> Config:
    from peaktrade import schemas
    from peaktrade.loader import load_toml

    loaded = load_toml(root.config_file, root.rel(root.config_file))
    problems = list(loaded.problems)
    if loaded.data is not None:
        problems += schemas.check(loaded.data, "config", loaded.locations)
    if problems:
        raise UsageError("config/config.toml is invalid", details=[p.text() for p in problems])
    for name in credential_env(loaded.data):
        register_secret_env(name)  # whatever its name: KRK_T_PRIV or SMTP_PASS are secrets too
    return Config(loaded.data)


def credential_env(data: Any) -> dict[str, bool]:
    """Every environment variable named by a ``*_env`` key (``api_key_env = "X"`` or a per-mode table
    ``{testnet = "X", live = "Y"}``), mapped to whether it is a live credential (under a ``live`` key)."""
    found: dict[str, bool] = {}
    stack: list[tuple[Any, bool, bool]] = [(data, False, False)]  # (value, under a *_env key, live)
    while stack:
        value, named, live = stack.pop()
        if isinstance(value, dict):
            for key, sub in value.items():
                stack.append((sub, named or str(key).endswith("_env"), live or (named and key == "live")))
        elif isinstance(value, list):
            stack.extend((v, named, live) for v in value)
        elif named and isinstance(value, str) and value.strip():
            found[value.strip()] = found.get(value.strip(), False) or live
    return found
