"""``run``: an argv command. No shell unless ``shell: true``; every rendered item stays one argv item.

With ``shell: true`` no value is ever spliced into the script text: each ``{{ expr }}`` becomes a
quoted positional parameter (``"$1"``, ``"$2"``, ...) and its value is passed as that argument of
``/bin/sh -c SCRIPT peaktrade-step ARG1 ARG2 ...``. Params, ``play.*``, ``steps.*`` and ``config``
are all data this way. ``shell_problem`` refuses the places where even ``"$1"`` would not stay data
(inside quotes, ``$(...)``, backticks) and Jinja blocks; ``peaktrade validate`` reports the same.

The command's environment holds no credential variable (those named by config ``*_env`` keys and
those named like secrets) unless the step lists it under ``env_from_secrets``; asking for a live
credential makes the step live-sensitive (``Prepared.live_sensitive``, ``payload['live_credentials']``).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from typing import TYPE_CHECKING, Any

from peaktrade.config import credential_env
from peaktrade.playbook.kinds import Prepared, PrepareError
from peaktrade.playbook.result import StepResult
from peaktrade.redact import redact_text, secret_env_names
from peaktrade.templating import evaluate, render_value

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step

gated = True

_EXPR = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# argv[0] of a shell: `run: [sh, -c, "... {{ x }}"]` would splice just like shell: true used to
SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"}


def _as_arg(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def shell_problem(script: str) -> str | None:
    """Why ``{{ }}`` in this shell text would not stay data, or None.

    A small scanner of sh quoting: ``{{`` must sit outside single quotes, double quotes, backticks,
    ``$(...)`` and ``${...}``, and must not follow a ``$``; ``{% %}`` blocks would write script
    text from data and are refused too.
    """
    if "{%" in script:
        return "Jinja blocks ({% ... %}) are not allowed in a shell: true command; use {{ value }} only"
    stack: list[str] = []  # open contexts: "'", '"', "`", "$(", "${"
    i = 0
    while i < len(script):
        ch, top = script[i], (stack[-1] if stack else "")
        if ch == "$" and top != "'" and script.startswith("{{", i + 1):
            return "${{ ... }} in a shell: true command would not stay data; write {{ ... }} bare"
        if script.startswith("{{", i):
            if stack or (i > 0 and script[i - 1] == "$"):
                where = {"'": "single quotes", '"': "double quotes", "`": "backticks", "$(": "$( ... )",
                         "${": "${ ... }"}.get(top, "a $ expansion")
                return (f"{{{{ ... }}}} inside {where} in a shell: true command would not stay data; "
                        "write it bare (it is passed as a quoted \"$N\" parameter)")
            end = script.find("}}", i + 2)
            i = len(script) if end < 0 else end + 2
            continue
        if top == "'":
            if ch == "'":
                stack.pop()
        elif ch == "\\":
            i += 1  # the next character is escaped
        elif top == '"' and ch == '"':
            stack.pop()
        elif top == "`" and ch == "`":
            stack.pop()
        elif top in ("$(", "${") and ch == (")" if top == "$(" else "}"):
            stack.pop()
        elif ch == "'" and top != '"':
            stack.append("'")
        elif ch == '"':
            stack.append('"')
        elif ch == "`":
            stack.append("`")
        elif script.startswith("$(", i) or script.startswith("${", i):
            stack.append(script[i:i + 2])
            i += 1
        i += 1
    return None


def shell_script(items: list[Any], tctx: dict[str, Any]) -> tuple[str, list[str]]:
    """The script text (templates replaced by "$N") and the positional arguments, in order."""
    args: list[str] = []

    def param(m: re.Match[str]) -> str:
        args.append(_as_arg(evaluate(m.group(1).strip(), tctx)))
        return f'"${{{len(args)}}}"'

    parts = []
    for item in items:
        text = _as_arg(item)
        if (why := shell_problem(text)) is not None:
            raise PrepareError(why)
        parts.append(_EXPR.sub(param, text))
    return " ".join(parts), args


def is_shell_argv(items: list[Any]) -> bool:
    """``[sh, -c, ...]`` (any shell, any path): a shell script written as argv."""
    return (len(items) >= 3 and isinstance(items[0], str) and os.path.basename(items[0]) in SHELLS
            and "-c" in [i for i in items[1:3] if isinstance(i, str)])


def step_env(step: Step, config: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The command's environment without credential variables except those the step asks for,
    and the live credentials among those it asks for."""
    creds = credential_env(config)
    wanted = [n for n in step.raw.get("env_from_secrets") or [] if isinstance(n, str)]
    drop = (set(creds) | secret_env_names()) - set(wanted)
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return env, [n for n in wanted if creds.get(n)]


def prepare(ctx: PlayContext, frame: Frame, step: Step, tctx: dict[str, Any]) -> Prepared:
    items = step.body
    shell = bool(step.raw.get("shell"))
    if shell:
        script, args = shell_script(items, tctx)
        argv = ["/bin/sh", "-c", script, "peaktrade-step", *args]
    else:
        if is_shell_argv(items) and any("{{" in _as_arg(i) for i in items[2:]):
            raise PrepareError("a template in a `sh -c` script is spliced into shell text; "
                               "write the command with shell: true instead")
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
    env, live = step_env(step, ctx.config)
    shown = f"{argv[2]}  # with {shlex.join(argv[4:])}" if shell and argv[4:] else argv[2] if shell \
        else shlex.join(argv)
    return Prepared(f"run: {redact_text(shown)}", step.effect, argv=argv, live_sensitive=bool(live),
                    payload={"cwd": cwd, "codes": codes if isinstance(codes, list) else [codes], "pattern": pattern,
                             "env": env, "live_credentials": live})


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
                                stderr=subprocess.STDOUT, start_new_session=True, env=p.get("env"))
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
