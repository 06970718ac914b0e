"""Static facts about the Jinja inside a playbook: does it compile, which params and steps it reads.

Parsing goes through the one environment of ``peaktrade.templating`` so that what validates here
is exactly what the interpreter can render.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from peaktrade import templating


@dataclass
class TemplateFacts:
    error: str | None = None
    params: set[str] = field(default_factory=set)
    steps: set[str] = field(default_factory=set)


def _name_lookups(tree, name: str) -> set[str]:
    """Keys read from the variable ``name``: ``name.key`` and ``name['key']``."""
    from jinja2 import nodes

    found: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        base = node.node
        if not (isinstance(base, nodes.Name) and base.name == name):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    return found


def analyse(source: str, *, expression: bool = False) -> TemplateFacts:
    """Compile ``source`` (a template, or a bare expression for ``when:``) and collect references."""
    from jinja2 import TemplateSyntaxError

    error = templating.compile_check(source, expression=expression)
    if error:
        return TemplateFacts(error=error)
    try:
        tree = templating.env().parse("{{ " + source + " }}" if expression else source)
    except TemplateSyntaxError as exc:  # compile_check passed, so this is only belt and braces
        return TemplateFacts(error=f"Jinja syntax error: {exc.message}")
    return TemplateFacts(params=_name_lookups(tree, "params"), steps=_name_lookups(tree, "steps"))


def template_strings(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every string inside ``value`` that is a template, with its path."""
    if isinstance(value, str):
        if templating.is_template(value):
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from template_strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from template_strings(v, (*path, i))
