"""The desk's processes (runbooks 5 and 6): list them with an explicit expectation, and stop them.

"The desk's processes" are the registered runs (stopped through the orchestrator, so each is marked
stopped or killed) and every live process whose command line matches one of the desk's patterns
(``[processes] patterns`` in config/config.toml) and that belongs to this deployment root: it names
the root in its command line or runs inside it. The seed's ``pkill -f "python.*run_"`` targets
exactly such processes, which no registry knows.
"""

from __future__ import annotations

import os
import re
import signal
from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action
from peaktrade.config import load_config
from peaktrade.errors import PeakTradeError
from peaktrade.redact import redact_text
from peaktrade.runtime import procinfo

# "" = the desk's configured patterns; the playbooks pass their process_pattern param, empty by default
_PATTERN = {"type": "string", "description": "regular expression; empty = [processes] patterns of the config"}
_EXPECT = {"oneOf": [{"enum": ["none", "some", "listing"]}, {"type": "string", "pattern": r"^exactly [0-9]+$"}],
           "description": "none | some | 'exactly N': what must be running for the step to pass; "
                          "listing: only show them (an identification step, not a check)"}
KILL_WAIT_S = 5.0  # SIGKILL needs no grace; this only covers the kernel reaping the process
EXCERPT = 20  # processes named in a summary's output


def desk_regex(ctx: ActionContext, pattern: str | None) -> re.Pattern[str] | ActionResult:
    """The pattern given, else the desk's configured ones (config ``[processes] patterns``)."""
    patterns = [pattern] if pattern else \
        list(load_config(ctx.root).get("processes.patterns") or procinfo.DEFAULT_DESK_PATTERNS)
    try:
        return re.compile(pattern, re.I) if pattern else procinfo.desk_pattern(patterns)
    except re.error as exc:
        return ActionResult(False, f"invalid pattern {' | '.join(patterns)!r}: {exc}")


def _lines(procs: list[procinfo.MatchedProcess]) -> str:
    shown = [f"{p.pid:>7}  {p.cmdline}" for p in procs[:EXCERPT]]
    if len(procs) > EXCERPT:
        shown.append(f"... and {len(procs) - EXCERPT} more")
    return redact_text("\n".join(shown))


def _expectation(expect: str, count: int) -> bool:
    if expect == "none":
        return count == 0
    if expect == "some":
        return count > 0
    if expect == "listing":
        return True
    return count == int(expect.split()[1])


@action("processes.list", effect="read", description="List the processes whose command line matches a pattern, "
        "and check an explicit expectation (none, some, exactly N).",
        schema={"type": "object", "additionalProperties": False, "required": ["expect"], "properties": {
            "pattern": _PATTERN, "expect": _EXPECT,
            "scope": {"enum": ["machine", "root"], "default": "machine",
                      "description": "root: only processes of this deployment root (named in their "
                                     "command line, or running inside it)"}}})
def processes_list(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    rx = desk_regex(ctx, args.get("pattern"))
    if isinstance(rx, ActionResult):
        return rx
    expect = args["expect"]
    scoped = args.get("scope", "machine") == "root"
    procs = procinfo.matching_processes(rx, ctx.root.path if scoped else None)
    ok = _expectation(expect, len(procs))
    where = " in this root" if scoped else ""
    what = repr(rx.pattern) if args.get("pattern") else "the desk's patterns ([processes] patterns)"
    summary = f"{len(procs)} process(es){where} match {what}" + ("" if ok else f" (expected {expect})")
    rows = [{"pid": p.pid, "cmdline": redact_text(p.cmdline)} for p in procs]
    return ActionResult(ok, summary, _lines(procs), {"pattern": rx.pattern, "scope": args.get("scope", "machine"),
                                                     "expect": expect, "count": len(procs), "processes": rows})


def _describe_stop(args: dict[str, Any]) -> str:
    if args.get("signal") == "kill":
        return ("SIGKILL every registered run and every process of this root matching the desk's patterns, "
                "then check that none is left")
    return (f"SIGTERM every registered run and every process of this root matching the desk's patterns, "
            f"wait up to {args.get('timeout_s', 30):g} s, and fail if any is still running")


def _registered_pids(ctx: ActionContext) -> tuple[set[int], str | None]:
    """Pids of the active registered runs (the orchestrator stops those), or a note why unknown."""
    # imported here: every action module is imported by `peaktrade validate`, the runtime costs ~0.1 s
    from peaktrade.runtime.registry import open_registry

    try:
        return {r.pid for r in open_registry(ctx.root).list(active_only=True) if r.pid}, None
    except PeakTradeError as exc:  # a broken registry: its workers are signalled like any other match
        return set(), exc.message


def _signal_all(procs: list[procinfo.MatchedProcess], sig: int) -> list[str]:
    failed = []
    for p in procs:
        if not procinfo.is_alive(p.pid, p.start_time):
            continue
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            continue
        except OSError as exc:  # e.g. another user's process: say so, never hide it
            failed.append(f"pid {p.pid}: {exc.strerror or exc}")
    return failed


def _stop_runs(ctx: ActionContext, kill: bool, timeout_s: float) -> tuple[list[str], list[str], list[str]]:
    """(lines, run ids stopped or killed, problems) of the registered runs."""
    from peaktrade.runtime.orchestrator import Orchestrator

    orch = Orchestrator(ctx.root, clock=ctx.clock)
    if kill:
        report = orch.kill_all()
        lines = [f"{r.run_id}: {r.outcome}" + (f" (host {r.host}: its agent signals it)" if r.host else "")
                 for r in report.results]
        problems = [f"NOT killed: {f}" for f in report.failed]
        if report.registry_error:
            lines.append(f"registry unusable ({report.registry_error}): workers found by their command lines")
        return lines, [r.run_id for r in report.results], problems
    try:
        results = orch.stop_all(timeout_s=timeout_s)
    except PeakTradeError as exc:
        return [f"registry: {exc.message}"], [], []
    lines = [f"{r.run_id}: {r.outcome} ({r.seconds:.1f} s)" + (f" on host {r.host}" if r.host else "")
             for r in results]
    problems = [f"{r.run_id} had to be killed after {timeout_s:g} s" for r in results if r.outcome == "killed"]
    return lines, [r.run_id for r in results], problems


@action("processes.stop", effect="act", describe=_describe_stop, risk_reducing=True,
        description="Stop every process of the desk: the registered runs through the orchestrator and every "
                    "process of this root matching the desk's patterns; fails if any survives.",
        schema={"type": "object", "additionalProperties": False, "required": ["signal"], "properties": {
            "signal": {"enum": ["term", "kill"], "description": "term: graceful (SIGTERM, wait); kill: SIGKILL"},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600, "default": 30},
            "pattern": _PATTERN}})
def processes_stop(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    rx = desk_regex(ctx, args.get("pattern"))
    if isinstance(rx, ActionResult):
        return rx
    kill = args["signal"] == "kill"
    timeout = KILL_WAIT_S if kill else float(args.get("timeout_s", 30))
    t0 = ctx.clock.monotonic()
    registered, registry_note = _registered_pids(ctx)
    # the unregistered ones first, so they use the same grace period as the runs
    others = [p for p in procinfo.matching_processes(rx, ctx.root.path) if p.pid not in registered]
    problems = _signal_all(others, signal.SIGKILL if kill else signal.SIGTERM)
    lines, run_ids, run_problems = _stop_runs(ctx, kill, timeout)
    problems += run_problems
    lines += [f"pid {p.pid}: {'SIGKILL' if kill else 'SIGTERM'} sent ({redact_text(p.cmdline)})" for p in others]
    survivors = procinfo.matching_processes(rx, ctx.root.path)
    while survivors and ctx.clock.monotonic() - t0 < timeout:
        ctx.clock.sleep(0.1)
        for p in survivors:
            procinfo.reap(p.pid)  # a process this one started (tests, foreground tools) must not linger
        survivors = procinfo.matching_processes(rx, ctx.root.path)
    data = {"run_ids": run_ids, "signalled": [p.pid for p in others], "survivors": [p.pid for p in survivors],
            "signal": args["signal"], "registry_note": registry_note}
    done = f"{len(run_ids)} registered run(s) and {len(others)} other process(es) signalled"
    if survivors:
        lines += [f"STILL RUNNING: {line}" for line in _lines(survivors).splitlines()]
        hint = "" if kill else "; run `peaktrade play shutdown-emergency`"
        return ActionResult(False, f"{len(survivors)} process(es) still running after {timeout:g} s: "
                                   f"{', '.join(str(p.pid) for p in survivors[:EXCERPT])} ({done}){hint}",
                            "\n".join(lines + problems), data)
    if problems:
        return ActionResult(False, f"{'; '.join(problems)} ({done})", "\n".join(lines + problems), data)
    summary = f"{done}; none left" if run_ids or others else "nothing to stop: no process of this desk is running"
    return ActionResult(True, summary, "\n".join(lines), data)
