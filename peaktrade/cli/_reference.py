"""Generate docs/cli-reference.md from the CLI itself, so the reference cannot drift.

    python -m peaktrade.cli._reference > docs/cli-reference.md

A test compares the committed file with this output.
"""

from __future__ import annotations

import typer


def _walk(cmd, ctx, path: list[str], out: list[str]) -> None:
    name = " ".join(path)
    help_text = cmd.get_help(ctx).replace("Usage: peaktrade-reference", "Usage: peaktrade")
    level = min(len(path), 4)
    out.append(f"{'#' * (level + 1)} `{name}`\n\n```text\n{help_text.rstrip()}\n```\n")
    sub = getattr(cmd, "commands", None)
    if sub:
        for sub_name in sorted(sub):
            child = sub[sub_name]
            if getattr(child, "hidden", False):
                continue
            child_ctx = type(ctx)(child, info_name=sub_name, parent=ctx)
            _walk(child, child_ctx, [*path, sub_name], out)


def reference() -> str:
    import peaktrade.cli as cli

    cli._register_all()
    cmd = typer.main.get_command(cli.app)
    ctx = typer.Context(cmd, info_name="peaktrade")
    out = [
        "# CLI reference\n",
        "Generated from the CLI by `python -m peaktrade.cli._reference > docs/cli-reference.md`;",
        "a test keeps it in step with the code. Exit codes: 0 success, 1 a step/check/rule failed",
        "(alerts: a CRITICAL fired), 2 bad usage or invalid input, 3 blocked by a guard or policy,",
        "130 interrupted.\n",
    ]
    _walk(cmd, ctx, ["peaktrade"], out)
    return "\n".join(out)


if __name__ == "__main__":
    import os

    os.environ.setdefault("COLUMNS", "100")
    print(reference(), end="")
