"""Helpers of the playbook tests: test-only actions, playbook writing, CLI runners, journal reading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from peaktrade.actions.registry import ActionResult, action, get
from peaktrade.root import Root

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


def _register_test_actions() -> None:
    if get("test.echo") is not None:
        return

    @action("test.echo", effect="read", description="Echo a message.",
            schema={"type": "object", "additionalProperties": False, "required": ["message"],
                    "properties": {"message": {"type": "string"}, "fail": {"type": "boolean"},
                                   "count": {"type": "integer"}}})
    def _echo(ctx, args):
        if args.get("fail"):
            return ActionResult(False, f"failed: {args['message']}")
        return ActionResult(True, args["message"], data={"message": args["message"], "count": args.get("count")})

    @action("test.touch", effect="act", description="Create a file under the root.",
            schema={"type": "object", "additionalProperties": False, "required": ["path"],
                    "properties": {"path": {"type": "string"}, "mode": {"type": "string"}}},
            describe=lambda args: f"touch {args['path']}")
    def _touch(ctx, args):
        p = ctx.root.path / args["path"]
        with open(p, "a") as fh:
            fh.write("x")
        return ActionResult(True, f"touched {args['path']}")

    @action("test.flaky", effect="read", description="Fail until called N times (counter file).",
            schema={"type": "object", "additionalProperties": False, "required": ["succeed_on", "counter"],
                    "properties": {"succeed_on": {"type": "integer"}, "counter": {"type": "string"}}})
    def _flaky(ctx, args):
        p = ctx.root.path / args["counter"]
        n = int(p.read_text()) + 1 if p.exists() else 1
        p.write_text(str(n))
        return ActionResult(n >= args["succeed_on"], f"call {n}")

    @action("test.boom", effect="read", description="Crash.")
    def _boom(ctx, args):
        raise RuntimeError("kaboom")

    @action("test.live_sensitive", effect="act", live_sensitive=True, description="Touches trading.",
            schema={"type": "object", "additionalProperties": False, "properties": {"stage": {"type": "string"}}})
    def _live(ctx, args):
        (ctx.root.path / "traded").write_text("yes")
        return ActionResult(True, "traded")


_register_test_actions()


def write_playbook(root: Root, name: str, body: str) -> Path:
    """Write playbooks/<name>.yaml; ``body`` is YAML after the header (steps:, params:, ...)."""
    header = f"name: {name}\ntitle: Test {name}\nrunbook: 1\nstage: any\n"
    path = root.playbook_file(name)
    path.write_text(header + textwrap.dedent(body), encoding="utf-8")
    return path


def cli(root: Root, *args: str) -> int:
    """Run the CLI in-process (stdin is not a terminal under pytest)."""
    from peaktrade.cli import run

    return run(["--root", str(root.path), *args])


def cli_proc(root: Root, *args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run the real ``peaktrade`` in a subprocess with no terminal on stdin."""
    full_env = {**os.environ, "PEAKTRADE_OPERATOR": "tester", **(env or {})}
    return subprocess.run([PY, "-m", "peaktrade", "--root", str(root.path), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=full_env, timeout=60, **kw)


def journal(root: Root, play_id: str | None = None) -> list[dict]:
    if play_id is None:
        (play_dir,) = sorted(root.plays_dir.iterdir())[-1:]
    else:
        play_dir = root.plays_dir / play_id
    return [json.loads(line) for line in (play_dir / "journal.jsonl").read_text().splitlines()]


def finished(records: list[dict]) -> dict[str, dict]:
    return {r["step"]: r for r in records if r["type"] == "step_finished"}
