"""Running a policy diff over the whole policies/ folder and rendering it (text, json, markdown)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peaktrade.policy.diff import Change, base_files, diff_texts
from peaktrade.root import Root

_DECISION_OF_FILE = {"risk-limits.yaml": "risk_limit_change", "stages.yaml": "stage_promotion"}


@dataclass
class DiffReport:
    base: str
    changes: list[Change] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)  # "decision: who" lines

    @property
    def loosened(self) -> list[Change]:
        return [c for c in self.changes if c.direction == "loosened"]

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "changes": [c.to_dict() for c in self.changes],
                "required_approvals": self.approvals, "summary": self.summary()}

    def summary(self) -> dict[str, int]:
        count = {d: sum(c.direction == d for c in self.changes) for d in ("tightened", "loosened", "neutral")}
        return {**count, "flagged": sum(c.flagged for c in self.changes)}


def _decision(change: Change) -> str:
    name = change.file.rsplit("/", 1)[-1]
    if name == "stages.yaml" and change.path == "$.live.enabled":
        return "live_activation"
    return _DECISION_OF_FILE.get(name, "policy_change")


def policy_diff(root: Root, base: str) -> DiffReport:
    from peaktrade import schemas
    from peaktrade.policy.roles import load_roles

    old = base_files(root, base)
    new = {p.name: p.read_text(encoding="utf-8") for p in sorted(root.policies_dir.glob("*.yaml"))}
    report = DiffReport(base)
    for name in sorted(set(old) | set(new)):
        stem = name[:-5]
        schema = schemas.load_schema(stem) if schemas.schema_path(stem).is_file() else {}
        report.changes += diff_texts(f"policies/{name}", old.get(name), new.get(name), schema)
    decisions = _base_decisions(old.get("roles.yaml"))
    if decisions is None:
        try:
            decisions = load_roles(root).decisions
        except Exception:  # noqa: BLE001 - a broken roles.yaml must not hide the diff itself
            decisions = {}
    for d in dict.fromkeys(_decision(c) for c in report.changes):
        spec = decisions.get(d)
        report.approvals.append(f"{d}: {spec.describe()}" if spec else f"{d}: (not defined in policies/roles.yaml)")
    return report


def _base_decisions(text: str | None):
    """The decision matrix as it was at the base: a change cannot lower its own approval bar."""
    from peaktrade.loader import parse_yaml
    from peaktrade.policy.roles import roles_from_data

    if not text:
        return None
    try:
        return roles_from_data(parse_yaml(text, "base:policies/roles.yaml").data).decisions
    except Exception:  # noqa: BLE001 - an unreadable base matrix: fall back to the working tree's
        return None


def _value(v: Any) -> str:
    return "(absent)" if v is None else str(v)


def _delta(c: Change) -> str:
    return "" if c.pct is None else f" ({c.pct:+.1f} %)"


def render_text(r: DiffReport) -> str:
    if not r.changes:
        return f"No policy changes against {r.base}."
    lines = [f"Policy diff {r.base} -> working tree"]
    for c in r.changes:
        flag = "  [LOOSENED > 25 % IN ONE STEP]" if c.flagged and c.pct is not None else \
            "  [FLAGGED]" if c.flagged else ""
        lines.append(f"  {c.direction.upper():<10} {c.file}: {c.path} ({c.kind}): "
                     f"{_value(c.old)} -> {_value(c.new)}{_delta(c)}{flag}")
    s = r.summary()
    lines.append(f"Required approvals: {'; '.join(r.approvals)}")
    lines.append(f"Summary: {s['loosened']} loosened ({s['flagged']} flagged), {s['tightened']} tightened, "
                 f"{s['neutral']} neutral")
    return "\n".join(lines)


def render_markdown(r: DiffReport) -> str:
    if not r.changes:
        return f"### Policy diff against `{r.base}`\n\nNo policy changes."
    lines = [f"### Policy diff against `{r.base}`", "",
             "| file | field | change | before | after | |", "|---|---|---|---|---|---|"]
    for c in r.changes:
        change = f"**{c.direction}**" if c.direction == "loosened" else c.direction
        flag = "⚠️ loosened > 25 %" if c.flagged and c.pct is not None else "⚠️ review" if c.flagged else ""
        lines.append(f"| `{c.file}` | `{c.path}` | {change} ({c.kind}){_delta(c)} | `{_value(c.old)}` | "
                     f"`{_value(c.new)}` | {flag} |")
    s = r.summary()
    lines += ["", "**Required approvals:** " + "; ".join(f"`{a}`" for a in r.approvals), "",
              f"**Summary:** {s['loosened']} loosened ({s['flagged']} flagged), {s['tightened']} tightened, "
              f"{s['neutral']} neutral."]
    return "\n".join(lines)
