"""The one Jinja environment: sandboxed, StrictUndefined. Operator input is data, never a template."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any


class TemplateError(Exception):
    """A template could not be compiled or rendered (message is operator-readable)."""


@cache
def env():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def compile_check(source: str, *, expression: bool = False) -> str | None:
    """None when ``source`` compiles, else the error message."""
    from jinja2 import TemplateSyntaxError

    try:
        if expression:
            env().compile_expression(source)
        else:
            env().from_string(source)
    except TemplateSyntaxError as exc:
        return f"Jinja syntax error: {exc.message} (line {exc.lineno})"
    return None


@lru_cache(maxsize=4096)
def _compiled(source: str):
    """Compiled templates, reused: playbooks render the same strings step after step."""
    return env().from_string(source)


@lru_cache(maxsize=4096)
def _compiled_expression(expression: str):
    return env().compile_expression(expression, undefined_to_none=False)


def render_string(source: str, context: dict[str, Any]) -> str:
    from jinja2 import TemplateError as JinjaError

    try:
        return _compiled(source).render(context)
    except JinjaError as exc:
        raise TemplateError(f"template {source!r}: {exc}") from None


def render_value(value: Any, context: dict[str, Any]) -> Any:
    """Render every template string inside ``value`` (dicts and lists recursively).

    A string that is exactly one ``{{ expr }}`` keeps the expression's native type (so
    ``steps: "{{ params.steps }}"`` stays an integer).
    """
    if isinstance(value, str):
        if not is_template(value):
            return value
        stripped = value.strip()
        if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
            return evaluate(stripped[2:-2].strip(), context)
        return render_string(value, context)
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    return value


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """Evaluate a Jinja expression (``when:`` conditions, single-expression values)."""
    from jinja2 import TemplateError as JinjaError

    try:
        return _compiled_expression(expression)(**context)
    except JinjaError as exc:
        raise TemplateError(f"expression {expression!r}: {exc}") from None


def render_template_file(path, context: dict[str, Any]) -> str:
    """Render a template file (checklists, incident reports) in the sandbox."""
    from pathlib import Path

    from jinja2 import TemplateError as JinjaError

    try:
        return env().from_string(Path(path).read_text(encoding="utf-8")).render(context)
    except JinjaError as exc:
        raise TemplateError(f"template {path}: {exc}") from None
