"""Finding blocked orders (seed runbook 8, step 1) in logs/*.log and in the runs' event files."""

from __future__ import annotations

import json
import re
from typing import Any

from peaktrade.root import Root

MARK = "[RISK] Order blocked"
_LIMIT = re.compile(r"\[RISK\] Order blocked: ([a-z_]+)")


def _limit(text: str) -> str | None:
    m = _LIMIT.search(text)
    return m.group(1) if m else None


def find_blocked(root: Root, *, max_lines_per_file: int = 200_000) -> list[dict[str, Any]]:
    """Every blocked order found, oldest file first: {where, text, limit}. Secrets redacted."""
    from peaktrade.redact import redact_text

    out: list[dict[str, Any]] = []
    for log in sorted(root.logs_dir.glob("*.log")) if root.logs_dir.is_dir() else []:
        with open(log, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                if n > max_lines_per_file:
                    break
                if MARK in line:
                    text = redact_text(line.strip())
                    out.append({"where": f"{root.rel(log)}:{n}", "text": text, "limit": _limit(text)})
    runs = sorted(root.live_runs_dir.glob("*/events.jsonl")) if root.live_runs_dir.is_dir() else []
    for events in runs:
        with open(events, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                if n > max_lines_per_file:
                    break
                if "risk_reasons" not in line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                reasons = ev.get("risk_reasons") or []
                if ev.get("risk_allowed") is False or ev.get("orders_blocked"):
                    if isinstance(reasons, str):
                        reasons = [reasons]
                    text = redact_text("; ".join(str(r) for r in reasons) or "blocked (no reason recorded)")
                    first = str(reasons[0]).split(" ", 1)[0] if reasons else None
                    out.append({"where": f"{root.rel(events)}:{n}", "text": f"{MARK}: {text}", "limit": first})
    return out
