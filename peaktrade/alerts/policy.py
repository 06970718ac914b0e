"""``policies/alerts.yaml``: which rules run with which thresholds, and the channels per level.

Values given on the command line override the policy for one invocation; a rule the policy
disables still runs when its threshold is given on the command line (the operator asked for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import UsageError

if TYPE_CHECKING:
    from peaktrade.root import Root

DEFAULT_CHANNELS = {"WARNING": ["log", "console"], "CRITICAL": ["log", "console"]}


@dataclass(frozen=True)
class RuleSettings:
    pnl_drop_threshold_pct: float | None = None
    pnl_drop_window_hours: float = 1.0
    no_events_max_minutes: float | None = None
    error_spike_max_errors: int | None = None
    error_spike_window_minutes: float = 10.0
    channels: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))

    def to_dict(self) -> dict[str, Any]:
        return {
            "pnl_drop": None if self.pnl_drop_threshold_pct is None else
            {"threshold_pct": self.pnl_drop_threshold_pct, "window_hours": self.pnl_drop_window_hours},
            "no_events": None if self.no_events_max_minutes is None else {"max_minutes": self.no_events_max_minutes},
            "error_spike": None if self.error_spike_max_errors is None else
            {"max_errors": self.error_spike_max_errors, "window_minutes": self.error_spike_window_minutes},
        }


def load_alerts_policy(root: Root) -> dict[str, Any]:
    """The validated policy; a missing file means "no rules from policy", an invalid one is exit 2."""
    from peaktrade import schemas
    from peaktrade.fsutil import atomic_write_text
    from peaktrade.hashing import sha256_bytes
    from peaktrade.loader import load_yaml

    path = root.policy_file("alerts")
    if not path.is_file():
        return {"rules": {}}
    loaded = load_yaml(path, root.rel(path))
    problems = list(loaded.problems)
    # Cron runs this every few minutes: building the JSON Schema validator costs more than the
    # rules themselves, so a policy text already validated against this very schema is not re-checked.
    stamp = root.var_dir / "cache" / "alerts-policy.validated"
    key = sha256_bytes(loaded.text.encode() + b"\0" + schemas.schema_path("alerts").read_bytes())
    if loaded.data is not None and not problems and _read(stamp) == key:
        return loaded.data
    if loaded.data is not None:
        problems += schemas.check(loaded.data, "alerts", loaded.locations)
    if problems:
        raise UsageError(f"{root.rel(path)} is invalid", details=[p.text() for p in problems])
    try:
        atomic_write_text(stamp, key)
    except OSError:
        pass  # a read-only deployment just validates every time
    return loaded.data


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (value > 0 and value == value and value != float("inf")):
        raise UsageError(f"--{name.replace('_', '-')} must be a positive number, not {value}")


def resolve_settings(policy: dict[str, Any], *, pnl_drop_threshold_pct: float | None = None,
                     pnl_drop_window_hours: float | None = None, no_events_max_minutes: float | None = None,
                     error_spike_max_errors: int | None = None,
                     error_spike_window_minutes: float | None = None) -> RuleSettings:
    """Merge command-line values (None = not given) over the policy."""
    for name, value in (("pnl_drop_threshold_pct", pnl_drop_threshold_pct),
                        ("pnl_drop_window_hours", pnl_drop_window_hours),
                        ("no_events_max_minutes", no_events_max_minutes),
                        ("error_spike_window_minutes", error_spike_window_minutes)):
        _positive(name, value)
    if error_spike_max_errors is not None and error_spike_max_errors < 0:
        raise UsageError(f"--error-spike-max-errors must be >= 0, not {error_spike_max_errors}")
    rules = policy.get("rules") or {}

    def rule(name: str) -> dict[str, Any]:
        r = rules.get(name) or {}
        return r if r.get("enabled", True) else {}

    pnl, silent, spike = rule("pnl_drop"), rule("no_events"), rule("error_spike")
    channels = {**DEFAULT_CHANNELS, **(policy.get("channels") or {})}
    return RuleSettings(
        pnl_drop_threshold_pct=_pick(pnl_drop_threshold_pct, pnl.get("threshold_pct")),
        pnl_drop_window_hours=_pick(pnl_drop_window_hours, (rules.get("pnl_drop") or {}).get("window_hours"), 1.0),
        no_events_max_minutes=_pick(no_events_max_minutes, silent.get("max_minutes")),
        error_spike_max_errors=_pick(error_spike_max_errors, spike.get("max_errors")),
        error_spike_window_minutes=_pick(error_spike_window_minutes,
                                         (rules.get("error_spike") or {}).get("window_minutes"), 10.0),
        channels=channels,
    )


def _pick(*values: Any) -> Any:
    for v in values:
        if v is not None:
            return v
    return None
