"""Playbook validation: YAML with locations, the schema, then the semantic checks of DESIGN 4.

Semantic checks run on whatever the schema let through, so each one tolerates odd shapes: a
validator that crashes on a bad file is worse than one that misses a second-order mistake.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from peaktrade.loader import Locations
from peaktrade.problems import Problem
from peaktrade.validation.params import sub_params_problems, type_ok, value_problem
from peaktrade.validation.schema_errors import plain_path, schema_problems, step_id_at
from peaktrade.validation.templates import CONTEXT_NAMES, STEP_FIELDS, TemplateFacts, analyse, template_strings
from peaktrade.validation.workspace import Workspace, playbook_refs


def check_playbook(ws: Workspace, path: Path) -> list[Problem]:
    loaded = ws.load(path)
    problems = list(loaded.problems)
    data, locs = loaded.data, loaded.locations
    if data is None and problems:
        return problems
    if not isinstance(data, dict):
        return [*problems, locs.problem((), f"a playbook must be a mapping, not {_kind(data)}")]
    steps = data.get("steps")
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        # refused before the checks: they compare steps with each other (a 700,000-step file ran for minutes)
        return [*problems, locs.problem(("steps", MAX_STEPS), f"more than {MAX_STEPS} steps "
                                        f"({len(steps)}); split the runbook into playbooks")]
    from peaktrade import schemas

    problems += schema_problems(data, schemas.validator("playbook"), locs)
    problems += _Checker(ws, Path(path), data, locs).run()
    return sorted(set(problems))


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


MAX_STEPS = 500  # = maxItems of steps in schemas/playbook.schema.json

# step keys the interpreter uses as written (never rendered)
_LITERAL_KEYS = ("id", "title", "note")


class _Checker:
    def __init__(self, ws: Workspace, path: Path, data: dict[str, Any], locs: Locations):
        self.ws, self.path, self.data, self.locs = ws, path, data, locs
        self.problems: list[Problem] = []
        params = data.get("params")
        self.params = {k for k in params if isinstance(k, str)} if isinstance(params, dict) else set()
        steps = data.get("steps")
        self.steps = [s if isinstance(s, dict) else {} for s in steps] if isinstance(steps, list) else []

    def error(self, path: tuple, message: str, step: str | None = None, severity: str = "error") -> None:
        self.problems.append(self.locs.problem(plain_path(path), message, step=step, severity=severity))

    def run(self) -> list[Problem]:
        self.check_name()
        self.check_params()
        self.check_guards()
        self.check_steps()
        for rel, source in template_strings(self.data.get("on_failure")):  # the interpreter passes it as is
            self.error(("on_failure", *rel), f"not rendered here: {source!r} is used as written",
                       severity="warning")
        self.check_refs()
        return self.problems

    def check_name(self) -> None:
        name = self.data.get("name")
        if isinstance(name, str) and name != self.path.stem:
            self.error(("name",), f"name {name!r} must equal the file name {self.path.stem!r} (without .yaml)")

    def check_params(self) -> None:
        params = self.data.get("params")
        for name, spec in (params.items() if isinstance(params, dict) else []):
            if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
                continue
            ptype = spec["type"]
            enum = spec.get("enum") if isinstance(spec.get("enum"), list) else None
            for i, value in enumerate(enum or []):
                if not type_ok(value, ptype):
                    self.error(("params", name, "enum", i), f"enum value {value!r} is not of type {ptype}")
            if "default" in spec and (why := value_problem(spec["default"], spec, "default")) is not None:
                self.error(("params", name, "default"), why)
            if spec.get("secret") is True and spec.get("default") not in (None, ""):
                self.error(("params", name, "default"), "a secret param's default is readable in the playbook "
                                                        "file (and its git history); pass it with -p instead",
                           severity="warning")

    def check_guards(self) -> None:
        guards = self.data.get("guards")
        for i, guard in enumerate(guards if isinstance(guards, list) else []):
            if isinstance(guard, dict) and isinstance(guard.get("approval"), str):
                self.check_decision(("guards", i, "approval"), guard["approval"], None)

    def check_decision(self, path: tuple, decision: str, step: str | None) -> None:
        known = self.ws.decisions()
        if known is not None and decision not in known:
            self.error(path, f"unknown decision {decision!r}: not in policies/roles.yaml decisions"
                             f"{_suggest(decision, known)}", step)

    def check_steps(self) -> None:
        first_seen: dict[str, int] = {}
        for i, step in enumerate(self.steps):
            sid = step.get("id") if isinstance(step.get("id"), str) else None
            if sid is not None:
                if sid in first_seen:
                    line = self.locs.at(("steps", first_seen[sid], "id"))[0]
                    self.error(("steps", i, "id"), f"duplicate step id {sid!r} (first defined on line {line})", sid)
                else:
                    first_seen[sid] = i
            self.check_step(i, step, sid)
            rendered = {k: v for k, v in step.items() if k not in _LITERAL_KEYS and k != "when"}
            self.check_templates(rendered, ("steps", i), sid, i)
            self.warn_literal(step, ("steps", i), sid)
            if "when" in step and isinstance(step["when"], str):
                self.check_when(i, step["when"], sid)

    def check_step(self, i: int, step: dict[str, Any], sid: str | None) -> None:
        if "with" in step and not ({"action", "playbook"} & set(step)):
            self.error(("steps", i, "with"), "with: is only used by action and playbook steps", sid)
        if "timeout" in step and "run" not in step:
            self.error(("steps", i, "timeout"), "timeout applies to run steps only; it is ignored here", sid,
                       severity="warning")
        if isinstance(step.get("action"), str):
            self.check_action(i, step, sid)
        if isinstance(step.get("approve"), str):
            self.check_decision(("steps", i, "approve"), step["approve"], sid)
        pattern = step.get("expect", {}).get("output") if isinstance(step.get("expect"), dict) else None
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                self.error(("steps", i, "expect", "output"), f"not a valid regular expression: {exc}", sid)
        argv = step.get("run")
        if isinstance(argv, list) and argv and isinstance(argv[0], str) and not argv[0].strip():
            self.error(("steps", i, "run", 0), "the command (argv[0]) must not be empty", sid)
        if isinstance(argv, list):
            self.check_shell(i, argv, step.get("shell") is True, sid)

    def check_shell(self, i: int, argv: list[Any], shell: bool, sid: str | None) -> None:
        """Templates in shell text stay data only where run.py can pass them as "$N" (issue 10)."""
        from peaktrade.playbook.kinds.run import is_shell_argv, shell_problem

        if shell:
            for j, item in enumerate(argv):
                if isinstance(item, str) and ("{{" in item or "{%" in item) and (why := shell_problem(item)):
                    self.error(("steps", i, "run", j), why, sid)
        elif is_shell_argv(argv):
            for j, item in enumerate(argv[2:], start=2):
                if isinstance(item, str) and ("{{" in item or "{%" in item):
                    self.error(("steps", i, "run", j), "a template in a `sh -c` script is spliced into shell "
                                                       "text; write the command with shell: true instead", sid)

    def check_action(self, i: int, step: dict[str, Any], sid: str | None) -> None:
        from peaktrade.actions import registry
        from peaktrade.schemas import validator_for

        name = step["action"]
        actions = registry.load_all()
        spec = actions.get(name)
        if spec is None:
            self.error(("steps", i, "action"), f"unknown action {name!r}{_suggest(name, actions)}", sid)
            return
        if spec.effect == "act" and step.get("effect") == "read":
            self.error(("steps", i, "effect"),
                       f"action {name!r} changes things (effect act); the step must say effect: act", sid)
        args = step.get("with", {})
        if not isinstance(args, dict):
            return  # the playbook schema already reported it
        from peaktrade.templating import is_template

        problems = schema_problems(args, validator_for(spec.schema), self.locs, prefix=("steps", i, "with"),
                                   step_data=self.data, skip=lambda err: is_template(err.instance))
        self.problems += problems

    def check_when(self, i: int, expr: str, sid: str | None) -> None:
        path = ("steps", i, "when")
        if "{{" in expr or "{%" in expr:
            self.error(path, "when is a Jinja expression already: write it without {{ }}", sid)
            return
        self.report_facts(path, analyse(expr, expression=True), sid, i)

    def warn_literal(self, step: dict[str, Any], base: tuple, sid: str | None) -> None:
        """Templates where the interpreter does not render them would be shown or passed verbatim."""
        on_failure = step.get("on_failure")
        places = [((k,), step.get(k)) for k in _LITERAL_KEYS]
        if isinstance(on_failure, dict):
            places.append((("on_failure", "with"), on_failure.get("with")))
        for rel, value in places:
            for sub, source in template_strings(value):
                self.error((*base, *rel, *sub), f"not rendered here: {source!r} is used as written",
                           sid, severity="warning")

    def check_templates(self, value: Any, base: tuple, sid: str | None, index: int) -> None:
        for rel, source in template_strings(value):
            self.report_facts((*base, *rel), analyse(source), sid, index)

    def report_facts(self, path: tuple, facts: TemplateFacts, sid: str | None, index: int) -> None:
        if facts.error:
            self.error(path, facts.error, sid)
            return
        for name in sorted(facts.unknown_names):
            self.error(path, f"unknown name {name!r}: templates see {', '.join(CONTEXT_NAMES)}", sid)
        for name in sorted(facts.params - self.params):
            declared = ", ".join(sorted(self.params)) or "none"
            self.error(path, f"param {name!r} is not declared (declared: {declared})", sid)
        if not facts.steps and not facts.answers:
            return
        earlier = {s.get("id"): s for s in self.steps[:index]}
        for ref in sorted(facts.steps):
            if ref not in earlier:
                later = any(s.get("id") == ref for s in self.steps[index:])
                why = "it does not run before this point" if later else "no such step"
                self.error(path, f"steps.{ref} is referenced but {why}", sid)
                continue
            for field_ in sorted(facts.steps[ref] - {"", *STEP_FIELDS}):
                self.error(path, f"steps.{ref}.{field_} does not exist (a step has {', '.join(STEP_FIELDS)})", sid)
            if "data" in facts.steps[ref]:
                self.warn_dry_run(path, earlier[ref], ref, sid, index)
        for ref, value in facts.answers:
            self.check_answer(path, earlier.get(ref), ref, value, sid)

    def check_answer(self, path: tuple, source: dict[str, Any] | None, ref: str, value: Any,
                     sid: str | None) -> None:
        """`steps.x.answer == 'B'`: x is a decide step and B one of its options."""
        if source is None:
            return  # reported above as a reference to a step that has not run
        decide = source.get("decide")
        if not isinstance(decide, dict):
            self.error(path, f"steps.{ref}.answer is only set by decide steps; {ref!r} is not one", sid)
            return
        options = decide.get("options")
        if isinstance(options, dict) and value not in options:
            self.error(path, f"{value!r} is not an option of decide step {ref!r} "
                             f"(options: {', '.join(map(str, options))})", sid)

    def warn_dry_run(self, path: tuple, source: dict[str, Any], ref: str, sid: str | None, index: int) -> None:
        """A read step runs in --dry-run, the act step whose data it reads does not."""
        if index >= len(self.steps) or path[:1] != ("steps",):
            return
        step = self.steps[index]
        if source.get("effect") != "act" or step.get("effect") != "read" or "dry_run" in str(step.get("when", "")):
            return
        self.error(path, f"steps.{ref}.data is empty in --dry-run (step {ref!r} is an act step and does not run); "
                         "add `when: not play.dry_run`", sid, severity="warning")

    def check_refs(self) -> None:
        for path, name in playbook_refs(self.data):
            step = _step_of(self.data, path)
            target = self.ws.find_playbook(name, self.path)
            if target is None:
                known = [p.stem for p in self.ws.root.playbooks_dir.glob("*.yaml")]
                self.error(path, f"playbook {name!r} not found (looked for playbooks/{name}.yaml)"
                                 f"{_suggest(name, known)}", step)
                continue
            cycle = self.find_cycle(target, [self.path.stem, name])
            if cycle:
                self.error(path, f"playbook recursion: {' -> '.join(cycle)}", step)
            holder = _at(self.data, path[:-1])
            for rel, message in sub_params_problems(holder, self.ws.load(target).data, name):
                self.error((*path[:-1], *rel), message, step)

    def find_cycle(self, target: Path, trail: list[str]) -> list[str] | None:
        """The call chain back to this playbook through ``target``, if there is one."""
        if trail[-1] == self.path.stem and len(trail) > 1:
            return trail
        if len(trail) > 20:  # deeper than any real runbook chain; stop rather than loop on odd graphs
            return None
        for _, name in playbook_refs(self.ws.load(target).data):
            if name in trail[1:]:
                continue  # a cycle that does not pass through this file is reported by its own members
            nxt = self.ws.find_playbook(name, target)
            if nxt is not None and (found := self.find_cycle(nxt, [*trail, name])):
                return found
        return None


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part] if isinstance(data, dict | list) else None
    return data


def _step_of(data: dict[str, Any], path: tuple) -> str | None:
    return step_id_at(data, path)


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
