"""`validate.all`: the whole deployment root validates (the seed's "tests green" gate, for config)."""

from __future__ import annotations

from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action

_SHOWN = 10


@action("validate.all", effect="read", description="Playbooks, policies and config of the root are valid.",
        schema={"type": "object", "additionalProperties": False, "properties": {}})
def validate_all(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.validation import validate_files

    report = validate_files(ctx.root)
    errors, warnings = report.errors, report.warnings
    data = {"files": len(report.files), "errors": len(errors), "warnings": len(warnings)}
    lines = [p.text() for p in errors[:_SHOWN]] + [p.text() + " [warning]" for p in warnings[:_SHOWN]]
    if errors:
        more = f" (first {_SHOWN} shown)" if len(errors) > _SHOWN else ""
        return ActionResult(False, f"{len(errors)} validation error(s) in {len(report.files)} files{more}: "
                                   f"{errors[0].text()}", "\n".join(lines), data)
    return ActionResult(True, f"{len(report.files)} files valid ({len(warnings)} warnings)", "\n".join(lines), data)
