"""Located problems (validation errors and warnings) and how they are printed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MAX_MESSAGE = 400  # characters of one message; a value quoted in it is clipped to fit


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out (hostile input may be huge)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    col: int
    path: str  # JSON path, e.g. "$.steps[2].with.stage"
    message: str
    step: str | None = None
    severity: str = "error"  # error | warning

    def __post_init__(self) -> None:
        # every message and path is clipped here, once: a 50 MB value quoted by jsonschema must not
        # become a 50 MB line (the dataclass is frozen, hence object.__setattr__)
        for name in ("message", "path", "file"):
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > MAX_MESSAGE:
                object.__setattr__(self, name, clip(value))
        if self.step is not None and len(self.step) > 100:
            object.__setattr__(self, "step", clip(self.step, 100))

    def text(self) -> str:
        where = f" (step '{self.step}')" if self.step else ""
        return f"{self.file}:{self.line}:{self.col}: {self.path}{where}: {self.message}"

    def github(self) -> str:
        kind = "error" if self.severity == "error" else "warning"
        msg = f"{self.path}{' (step ' + repr(self.step) + ')' if self.step else ''}: {self.message}"
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        # property values also escape ':' and ',' (GitHub's workflow-command rules), else a file
        # named 'a,b.yaml' or 'c:d.yaml' would break the annotation
        file = (self.file.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
                .replace(":", "%3A").replace(",", "%2C"))
        return f"::{kind} file={file},line={self.line},col={self.col}::{msg}"


def json_path(parts: tuple[str | int, ...] | list[str | int]) -> str:
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p.isidentifier():
            out += f".{p}"
        else:
            out += "[" + json.dumps(p) + "]"
    return out


def render(problems: list[Problem], fmt: str) -> str:
    problems = sorted(problems)
    if fmt == "json":
        return json.dumps(
            {
                "ok": not any(p.severity == "error" for p in problems),
                "errors": sum(p.severity == "error" for p in problems),
                "warnings": sum(p.severity == "warning" for p in problems),
                "problems": [asdict(p) for p in problems],
            },
            indent=2,
        )
    if fmt == "github":
        return "\n".join(p.github() for p in problems)
    return "\n".join(p.text() if p.severity == "error" else p.text() + " [warning]" for p in problems)
