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
    position_drift_window_minutes: float | None = None  # None: not evaluated
    repeat_interval_minutes: float = 60.0  # a firing alert is notified again after this long (DESIGN 6)
    channels: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_CHANNELS))

    def to_dict(self) -> dict[str, Any]:
        return {
            "pnl_drop": None if self.pnl_drop_threshold_pct is None else
            {"threshold_pct": self.pnl_drop_threshold_pct, "window_hours": self.pnl_drop_window_hours},
            "no_events": None if self.no_events_max_minutes is None else {"max_minutes": self.no_events_max_minutes},
            "error_spike": None if self.error_spike_max_errors is None else
            {"max_errors": self.error_spike_max_errors, "window_minutes": self.error_spike_window_minutes},
            "position_drift": None if self.position_drift_window_minutes is None else
            {"window_minutes": self.position_drift_window_minutes},
            "run_crashed": {},
        }


def load_alerts_policy(root: Root) -> dict[str, Any]:
    """The validated policy; a missing file means "no rules from policy", an invalid one is exit 2.

    Cron runs this every few minutes, and parsing plus building the JSON Schema validator cost more
    than the rules themselves: the parsed policy is remembered in ``var/cache/alerts-policy.json``
    under the hash of its text and of the schema, so an unchanged file is neither re-parsed nor
    re-validated, and any edit is.
    """
    import json

    from peaktrade.hashing import sha256_bytes
    from peaktrade.root import defaults_dir

    path = root.policy_file("alerts")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {"rules": {}}
    stamp = root.var_dir / "cache" / "alerts-policy.json"
    key = sha256_bytes(raw + b"\0" + (defaults_dir() / "schemas" / "alerts.schema.json").read_bytes())
    try:
        cached = json.loads(stamp.read_text(encoding="utf-8"))
        if cached.get("key") == key and isinstance(cached.get("policy"), dict):
            return cached["policy"]
    except (OSError, ValueError, AttributeError):
        pass
    data = _validated(root, path)
    try:
        from peaktrade.fsutil import atomic_write_text

        atomic_write_text(stamp, json.dumps({"key": key, "policy": data}))
    except (OSError, TypeError, ValueError):
        pass  # a read-only deployment (or a non-JSON value) just validates every time
    return data


def _validated(root: Root, path: Path) -> dict[str, Any]:
    from peaktrade import schemas
    from peaktrade.loader import load_yaml

    loaded = load_yaml(path, root.rel(path))
    problems = list(loaded.problems)
    if loaded.data is not None:
        problems += schemas.check(loaded.data, "alerts", loaded.locations)
    if problems:
        raise UsageError(f"{root.rel(path)} is invalid", details=[p.text() for p in problems])
    return loaded.data


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
    # position_drift runs unless the policy switches it off: a ledger that differs from the account is never
    # something to learn about only because someone remembered to add the rule to an older policy file
    drift = rules.get("position_drift") or {}
    drift_window = float(drift.get("window_minutes", 60.0)) if drift.get("enabled", True) else None
    return RuleSettings(
        pnl_drop_threshold_pct=_pick(pnl_drop_threshold_pct, pnl.get("threshold_pct")),
        pnl_drop_window_hours=_pick(pnl_drop_window_hours, (rules.get("pnl_drop") or {}).get("window_hours"), 1.0),
        no_events_max_minutes=_pick(no_events_max_minutes, silent.get("max_minutes")),
        error_spike_max_errors=_pick(error_spike_max_errors, spike.get("max_errors")),
        error_spike_window_minutes=_pick(error_spike_window_minutes,
                                         (rules.get("error_spike") or {}).get("window_minutes"), 10.0),
        position_drift_window_minutes=drift_window,
        repeat_interval_minutes=float(policy.get("repeat_interval_minutes", 60.0)),
        channels=channels,
    )


def _pick(*values: Any) -> Any:
    for v in values:
        if v is not None:
            return v
    return None
