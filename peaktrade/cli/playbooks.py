"""`peaktrade playbooks list|show NAME`: what can be played, and what a playbook will do."""

from __future__ import annotations

from typing import Any

import typer

_KINDS = ("run", "action", "confirm", "manual", "approve", "decide", "playbook")


def _summary(name: str, data: Any, problems: list) -> dict[str, Any]:
    d = data if isinstance(data, dict) else {}
    steps = d.get("steps") if isinstance(d.get("steps"), list) else []
    row = {"name": name, "runbook": d.get("runbook"), "stage": d.get("stage"), "title": d.get("title"),
           "steps": len(steps)}
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        row["invalid"] = errors[0].text()
    return row


def _step_row(step: Any) -> dict[str, Any]:
    s = step if isinstance(step, dict) else {}
    kind = next((k for k in _KINDS if k in s), None)
    target = s.get(kind) if kind in ("run", "action", "approve", "playbook") else None
    if isinstance(target, list):
        target = " ".join(str(a) for a in target)
    row = {"id": s.get("id"), "kind": kind, "effect": s.get("effect"), "title": s.get("title")}
    for key, value in (("target", target), ("when", s.get("when")), ("with", s.get("with")),
                       ("on_failure", s.get("on_failure"))):
        if value is not None:
            row[key] = value
    return row


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="List the playbooks of the deployment root and show what one does.",
                        no_args_is_help=True)
    app.add_typer(group, name="playbooks")

    @group.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Every playbook: name, runbook, stage, title, number of steps (and whether it validates)."""
        from peaktrade.cli._common import print_json, root
        from peaktrade.loader import load_yaml
        from peaktrade.validation import validate_files

        r = root()
        paths = sorted(r.playbooks_dir.glob("*.yaml"), key=lambda p: p.stem)
        # a playbook that does not validate cannot be played: say so here rather than at `play`
        problems = validate_files(r, paths).errors if paths else []
        rows = []
        for path in paths:
            loaded = load_yaml(path, r.rel(path))
            rows.append(_summary(path.stem, loaded.data, [p for p in problems if p.file == r.rel(path)]))
        if as_json:
            print_json(rows)
            return
        if not rows:
            print(f"no playbooks in {r.rel(r.playbooks_dir)}/")
            return
        width = max(len(row["name"]) for row in rows)
        print(f"{'NAME':<{width}}  RUNBOOK  STAGE    STEPS  TITLE")
        for row in rows:
            title = row["title"] if "invalid" not in row else \
                f"(invalid: see peaktrade validate playbooks/{row['name']}.yaml)"
            runbook = "-" if row["runbook"] is None else row["runbook"]
            stage = "-" if row["stage"] is None else row["stage"]
            print(f"{row['name']:<{width}}  {runbook!s:>7}  {stage!s:<7}  {row['steps']:>5}  {title}")

    @group.command("show")
    def show(name: str = typer.Argument(..., metavar="NAME", help="Playbook name (file name without .yaml)."),
             as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Params, guards and steps (kind, effect, title) of one playbook."""
        from peaktrade.cli._common import print_json, root
        from peaktrade.errors import UsageError
        from peaktrade.validation import validate_playbook

        r = root()
        path = r.playbook_file(name)
        if "/" in name or not path.is_file():
            from peaktrade.playbook.model import playbook_names

            known = ", ".join(playbook_names(r)) or "none"
            raise UsageError(f"no playbook {name!r} in {r.rel(r.playbooks_dir)}/ (known: {known})")
        problems = [p for p in validate_playbook(r, path) if p.severity == "error"]
        if problems:
            raise UsageError(f"playbook {name!r} is invalid", details=[p.text() for p in problems])
        from peaktrade.loader import load_yaml

        data = load_yaml(path).data
        info = {**_summary(name, data, []), "description": data.get("description"),
                "params": data.get("params", {}), "guards": data.get("guards", []),
                "steps": [_step_row(s) for s in data["steps"]], "on_failure": data.get("on_failure")}
        if as_json:
            print_json(info)
            return
        _print_show(info)


def _flow(value: Any) -> str:
    """A value as YAML, the language the playbook is written in (never a Python repr)."""
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10_000)
    return text.removesuffix("\n").removesuffix("\n...")


def _block(value: Any, indent: str = "  ") -> list[str]:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, allow_unicode=True, width=100)
    return [indent + line for line in text.rstrip("\n").splitlines()]


def _print_show(info: dict[str, Any]) -> None:
    print(f"{info['name']}: {info['title']} (runbook {info['runbook']}, stage {info['stage']})")
    if info.get("description"):
        print(f"  {info['description'].strip()}")
    print("params:" if info["params"] else "params: none")
    for pname, spec in info["params"].items():
        extra = "".join(f", {k}: {_flow(spec[k])}" for k in ("default", "enum") if k in spec)
        extra += ", required" if spec.get("required") else ""
        print(f"  {pname}: {spec.get('type')}{extra}")
    print("guards:" if info["guards"] else "guards: none")
    for guard in info["guards"]:
        print("\n".join(_block([guard])))
    print("steps:")
    for i, step in enumerate(info["steps"], start=1):
        target = f" [{step['target']}]" if step.get("target") else ""
        when = f" (when {step['when']})" if step.get("when") else ""
        print(f"  {i:>2}. {step['id']:<24} {step['kind']:<8} {step['effect']:<4} {step['title']}{target}{when}")
    if info.get("on_failure"):
        print("on_failure:")
        print("\n".join(_block(info["on_failure"])))
