"""``run``: an argv command. No shell unless ``shell: true``; every rendered item stays one argv item."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from typing import TYPE_CHECKING, Any

from peaktrade.playbook.kinds import Prepared, PrepareError
from peaktrade.playbook.result import StepResult
from peaktrade.redact import redact_text
from peaktrade.templating import render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = True


def _as_arg(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    items = step.body
    if step.raw.get("shell"):
        # params are data: quoted before they reach the shell string
        quoted = {k: shlex.quote(_as_arg(v)) for k, v in tctx["params"].items()}
        script = " ".join(_as_arg(render_value(i, {**tctx, "params": quoted})) for i in items)
        argv = ["/bin/sh", "-c", script]
    else:
        argv = [_as_arg(render_value(i, tctx)) for i in items]
    cwd = ctx.root.path
    if step.raw.get("cwd"):
        cwd = (ctx.root.path / _as_arg(render_value(step.raw["cwd"], tctx))).resolve()
        if not cwd.is_dir():
            raise PrepareError(f"cwd {ctx.root.rel(cwd)} is not a directory")
    expect = step.raw.get("expect") or {}
    codes = expect.get("exit_code", 0)
    pattern = expect.get("output")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise PrepareError(f"expect.output is not a valid regular expression: {exc}") from None
    shown = argv[2] if step.raw.get("shell") else shlex.join(argv)
    return Prepared(f"run: {redact_text(shown)}", step.effect, argv=argv,
                    payload={"cwd": cwd, "codes": codes if isinstance(codes, list) else [codes], "pattern": pattern})


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def execute(ctx: PlayContext, frame: Frame, step: Step, prep: Prepared) -> StepResult:
    argv, p = prep.argv or [], prep.payload
    try:
        # its own session, so that a timeout (or our interruption) can kill the whole process group
        proc = subprocess.Popen(argv, cwd=p["cwd"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except FileNotFoundError:
        return StepResult.errored(f"command not found: {argv[0]}")
    except PermissionError:
        return StepResult.errored(f"command not executable: {argv[0]}")
    try:
        raw, _ = proc.communicate(timeout=step.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raw, _ = proc.communicate()
        out = redact_text(raw.decode("utf-8", "replace"))
        return StepResult.failed(f"timed out after {step.timeout:g}s (process group killed)", output=out)
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    out = redact_text(raw.decode("utf-8", "replace"))
    data = {"exit_code": proc.returncode}
    if proc.returncode not in p["codes"]:
        expected = p["codes"][0] if len(p["codes"]) == 1 else p["codes"]
        return StepResult.failed(f"exit {proc.returncode} (expected {expected}){_last_line(out)}",
                                 output=out, data=data)
    if p["pattern"] is not None and not re.search(p["pattern"], out, re.MULTILINE):
        return StepResult.failed(f"output does not match /{p['pattern']}/{_last_line(out)}", output=out,
                                 data=data)
    return StepResult.ok(f"exit {proc.returncode}{_last_line(out)}", output=out, data=data)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f": {lines[-1][:160]}" if lines else ""
