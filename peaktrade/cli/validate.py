"""`peaktrade validate [PATH...] [--format text|json|github]`."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        paths: list[str] = typer.Argument(
            None, metavar="[PATH]...",
            help="Files or folders to validate (default: config/config.toml, playbooks/, policies/)."),
        fmt: Format = typer.Option(Format.text, "--format", "-f",
                                   help="text (one line per problem), json, or github (workflow annotations)."),
    ) -> None:
        """Validate playbooks, policies and config: YAML/TOML syntax, JSON Schema, semantic checks.

        Exit 0 when there are no errors (warnings do not fail), 2 when there are.
        """
        from pathlib import Path

        from peaktrade.cli._common import root
        from peaktrade.problems import render
        from peaktrade.validation import validate_files

        if paths and any(not p.strip() for p in paths):
            from peaktrade.errors import UsageError

            raise UsageError("an empty PATH names no file (to validate the whole root, give no PATH)")
        report = validate_files(root(), [Path(p) for p in paths] if paths else None)
        errors, warnings = len(report.errors), len(report.warnings)
        out = render(report.problems, fmt.value)
        if fmt is Format.json:
            import json

            print(json.dumps({**json.loads(out), "files": report.files}, indent=2))
        else:
            if out:
                print(out)
            files = len(report.files)
            noun = "file" if files == 1 else "files"
            summary = (f"OK: {files} {noun} valid ({warnings} warnings)" if not errors
                       else f"FAILED: {errors} error(s), {warnings} warning(s) in {files} {noun}")
            print(summary, file=sys.stdout if fmt is Format.text else sys.stderr)
        if errors:
            raise typer.Exit(2)
