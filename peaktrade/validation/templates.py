"""Static facts about the Jinja inside a playbook: does it parse, which params, steps and names it reads.

Parsing goes through the one environment of ``peaktrade.templating`` so that what validates here
is exactly what the interpreter can render.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from peaktrade import templating

# What the interpreter puts into every template (peaktrade.playbook.executor.template_context)
CONTEXT_NAMES = ("params", "steps", "play", "config", "mode")
# The fields of one step's entry in ``steps`` (status, the decide answer, the action's data, its summary)
STEP_FIELDS = ("status", "answer", "data", "summary")


@dataclass
class TemplateFacts:
    error: str | None = None
    params: set[str] = field(default_factory=set)
    # step id -> the fields read from it ("" when the entry is used as a whole)
    steps: dict[str, set[str]] = field(default_factory=dict)
    unknown_names: set[str] = field(default_factory=set)
    # (step id, value) for every `steps.<id>.answer == 'value'` (or !=, in [...]) comparison
    answers: list[tuple[str, Any]] = field(default_factory=list)


def _key(node) -> str | None:
    from jinja2 import nodes

    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _is_lookup_on(node, name: str) -> bool:
    from jinja2 import nodes

    return (isinstance(node, nodes.Getattr | nodes.Getitem) and isinstance(node.node, nodes.Name)
            and node.node.name == name)


def _name_lookups(tree, name: str) -> dict[str, set[str]]:
    """Keys read from the variable ``name`` (``name.key``, ``name['key']``) with the fields read next."""
    from jinja2 import nodes

    found: dict[str, set[str]] = {}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if _is_lookup_on(node, name) and (key := _key(node)) is not None:
            found.setdefault(key, set())
        elif _is_lookup_on(node.node, name) and (key := _key(node.node)) is not None:
            found.setdefault(key, set()).add(_key(node) or "")
    for fields in found.values():
        if not fields:
            fields.add("")
    return found


def _unknown_top_names(tree) -> set[str]:
    """Names read from the context that the interpreter does not provide.

    A walk over the parse tree: ``jinja2.meta.find_undeclared_variables`` would generate code for
    every string, which is what this module avoids. Names the template binds itself (loop
    variables, ``set``, macro arguments) are not context lookups.
    """
    from jinja2 import nodes

    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    loaded = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    known = set(CONTEXT_NAMES) | set(templating.env().globals) | {"loop", "true", "false", "none"}
    return loaded - bound - known


def _parse(source: str, expression: bool):
    """The parse tree of a template, or of a bare expression exactly as ``compile_expression`` reads it."""
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.parser import Parser

    env = templating.env()
    if not expression:
        return env.parse(source)
    parser = Parser(env, source, state="variable")
    expr = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
    return nodes.Template([nodes.Output([expr])])


def _answer_of(node) -> str | None:
    """The step id when ``node`` is ``steps.<id>.answer`` (or ``steps['id'].answer``)."""
    from jinja2 import nodes

    if isinstance(node, nodes.Getattr) and node.attr == "answer" and _is_lookup_on(node.node, "steps"):
        return _key(node.node)
    return None


def _answer_comparisons(tree) -> list[tuple[str, Any]]:
    """Literal values a decide step's answer is compared with: what a typo in an option looks like."""
    from jinja2 import nodes

    found: list[tuple[str, Any]] = []
    for cmp in tree.find_all(nodes.Compare):
        exprs = [cmp.expr, *(op.expr for op in cmp.ops)]
        for i, left in enumerate(exprs):
            step = _answer_of(left)
            if step is None:
                continue
            for other in exprs[:i] + exprs[i + 1:]:
                if isinstance(other, nodes.Const):
                    found.append((step, other.value))
                elif isinstance(other, nodes.List | nodes.Tuple):
                    found += [(step, item.value) for item in other.items if isinstance(item, nodes.Const)]
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

    Parsed, not compiled: compiling to Python costs ~3 ms per string, and parsing plus the
    filter/test lookup finds the same mistakes (the validate bar is 500 ms for the whole tree).
    """
    from jinja2 import TemplateSyntaxError

    try:
        tree = _parse(source, expression)
    except TemplateSyntaxError as exc:
        return TemplateFacts(error=f"Jinja syntax error: {exc.message} (line {exc.lineno})")
    error = _unknown_names(tree)
    if error:
        return TemplateFacts(error=error)
    return TemplateFacts(params=set(_name_lookups(tree, "params")), steps=_name_lookups(tree, "steps"),
                         unknown_names=_unknown_top_names(tree), answers=_answer_comparisons(tree))


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
