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


def _unknown_names(tree) -> str | None:
    """What compiling would refuse beyond syntax: filters and tests the environment does not have."""
    from jinja2 import nodes

    env = templating.env()
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            return f"Jinja syntax error: No {kind} named {node.name!r}. (line {node.lineno})"
    return None


def analyse(source: str, *, expression: bool = False) -> TemplateFacts:
    """Check ``source`` (a template, or a bare expression for ``when:``) and collect references.

    Templates are parsed, not compiled: compiling to Python costs ~3 ms per string, and parsing plus
    the filter/test lookup finds the same mistakes (the validate bar is 500 ms for the whole tree).
    """
    from jinja2 import TemplateSyntaxError

    if expression:  # compile_expression also rejects trailing tokens that a parse of "{{ ... }}" hides
        error = templating.compile_check(source, expression=True)
        if error:
            return TemplateFacts(error=error)
    try:
        tree = templating.env().parse("{{ " + source + " }}" if expression else source)
    except TemplateSyntaxError as exc:
        return TemplateFacts(error=f"Jinja syntax error: {exc.message} (line {exc.lineno})")
    error = _unknown_names(tree)
    if error:
        return TemplateFacts(error=error)
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
