"""Generic system actions the operational playbooks need (runbooks 4-6): processes, disk, logs,
backups, git state, the operations log, environment variables.

Everything here reads the deployment root and the local machine only: no network, no exchange.
Output passes through the redactor because command lines and log lines can carry secrets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from pathlib import Path
from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action
from peaktrade.redact import redact_text

_REL_PATH = {"type": "string", "minLength": 1, "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).*$"}
_ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
# a flag that names a secret: its value (next argv item or after '=') is masked in listings
# PeakTrade's session workers (python -m peaktrade.runtime.worker) and the seed's run_* scripts
DEFAULT_PROCESS_PATTERN = r"peaktrade.*(session|runtime)|python.*run_"
_SECRET_FLAG = re.compile(r"^--?[\w-]*(secret|key|token|password|passphrase)[\w-]*$", re.I)


def _regex(pattern: str) -> re.Pattern[str] | ActionResult:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        return ActionResult(False, f"invalid pattern {pattern!r}: {exc}")


# --- processes.list -----------------------------------------------------------------------------

def _ancestors() -> set[int]:
    """This process and its parents: a play's own command line may contain the pattern."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                raw = fh.read().decode("ascii", "replace")
            pid = int(raw[raw.rfind(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _mask_argv(argv: list[str]) -> str:
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append("***REDACTED***")
            mask_next = False
            continue
        flag, eq, _ = arg.partition("=")
        if _SECRET_FLAG.match(flag):
            if eq:
                arg = f"{flag}=***REDACTED***"
            else:
                mask_next = True
        out.append(arg)
    return redact_text(" ".join(out))


def _belongs_to(pid: str, argv: list[str], root: Path) -> bool:
    """Does the process work for this deployment root: its command line names it (the orchestrator
    passes --root) or it runs inside it (the seed's scripts run from the project folder)?"""
    if any(str(root) in arg for arg in argv):
        return True
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(root)
    except OSError:
        return False


def list_processes(pattern: re.Pattern[str], root: Path | None = None) -> list[dict[str, Any]]:
    """Processes whose command line matches; with ``root``, only those of that deployment root."""
    skip = _ancestors()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in skip:
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                raw = fh.read()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        argv = [a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0") if a]
        if argv and pattern.search(" ".join(argv)) and (root is None or _belongs_to(entry.name, argv, root)):
            found.append({"pid": int(entry.name), "cmdline": _mask_argv(argv)})
    return sorted(found, key=lambda p: p["pid"])


@action("processes.list", effect="read", description="List processes whose command line matches a pattern.",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "pattern": {"type": "string", "minLength": 1, "default": DEFAULT_PROCESS_PATTERN},
            "expect": {"enum": ["none", "any", "either"], "default": "either"},
            "scope": {"enum": ["machine", "root"], "default": "machine",
                      "description": "root: only processes of this deployment root (named in their "
                                     "command line, or running inside it)"}}})
def processes_list(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    rx = _regex(args.get("pattern", DEFAULT_PROCESS_PATTERN))
    if isinstance(rx, ActionResult):
        return rx
    expect = args.get("expect", "either")
    scoped = args.get("scope", "machine") == "root"
    procs = list_processes(rx, ctx.root.path if scoped else None)
    ok = {"none": not procs, "any": bool(procs)}.get(expect, True)
    where = " in this root" if scoped else ""
    summary = f"{len(procs)} process(es){where} match {rx.pattern!r}" + ("" if ok else f" (expected {expect})")
    output = "\n".join(f"{p['pid']:>7}  {p['cmdline']}" for p in procs)
    return ActionResult(ok, summary, output, {"pattern": rx.pattern, "scope": args.get("scope", "machine"),
                                              "count": len(procs), "processes": procs})


# --- disk.check ---------------------------------------------------------------------------------

@action("disk.check", effect="read", description="Free disk space at a path is above a threshold (percent).",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "path": {"type": "string", "minLength": 1},
            "min_free_pct": {"type": "number", "minimum": 0, "maximum": 100, "default": 10}}})
def disk_check(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    path = ctx.root.path / args["path"] if "path" in args else ctx.root.path
    minimum = float(args.get("min_free_pct", 10))
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        return ActionResult(False, f"cannot read disk usage of {path}: {exc.strerror}")
    free_pct = 100.0 * usage.free / usage.total if usage.total else 0.0
    ok = free_pct > minimum
    summary = f"{free_pct:.1f} % free at {ctx.root.rel(path) if path != ctx.root.path else '.'} " \
              f"({usage.free / 2**30:.1f} GiB of {usage.total / 2**30:.1f} GiB); needs > {minimum:g} %"
    return ActionResult(ok, summary, data={"path": str(path), "total": usage.total, "free": usage.free,
                                           "free_pct": round(free_pct, 2), "min_free_pct": minimum})


# --- logs.scan_errors ---------------------------------------------------------------------------

@action("logs.scan_errors", effect="read", description="Find error/critical/exception lines in log files.",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "glob": {**_REL_PATH, "default": "logs/*.log"},
            "pattern": {"type": "string", "minLength": 1, "default": "error|critical|exception"},
            "tail": {"type": "integer", "minimum": 0, "default": 20},
            "fail_on_match": {"type": "boolean", "default": False}}})
def logs_scan_errors(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    rx = _regex(args.get("pattern", "error|critical|exception"))
    if isinstance(rx, ActionResult):
        return rx
    files = sorted(p for p in ctx.root.path.glob(args.get("glob", "logs/*.log")) if p.is_file())
    last: deque[str] = deque(maxlen=int(args.get("tail", 20)))
    count = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                if rx.search(line):
                    count += 1
                    last.append(f"{ctx.root.rel(path)}:{lineno}: {line.rstrip()}")
    ok = not (args.get("fail_on_match", False) and count)
    summary = f"{count} matching line(s) in {len(files)} log file(s)"
    return ActionResult(ok, summary, redact_text("\n".join(last)),
                        {"files": [ctx.root.rel(p) for p in files], "count": count})


# --- logs.backup --------------------------------------------------------------------------------

def _backup_target(ctx: ActionContext, label: str) -> Path:
    base = ctx.root.path / "backups" / f"{label}_{ctx.clock.now().strftime('%Y%m%d_%H%M%S')}"
    target, n = base, 2
    while target.exists():  # two backups in one second must not merge
        target, n = base.with_name(f"{base.name}_{n}"), n + 1
    return target


@action("logs.backup", effect="act", description="Copy logs (and other folders) to backups/<label>_<time>/.",
        describe=lambda a: f"copy {', '.join(a.get('sources', ['logs']))} to "
                           f"backups/{a.get('label', 'backup')}_<YYYYMMDD_HHMMSS>/",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "sources": {"type": "array", "minItems": 1, "items": _REL_PATH, "default": ["logs"]},
            "label": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "default": "backup"}}})
def logs_backup(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    target = _backup_target(ctx, args.get("label", "backup"))
    copied, missing = [], []
    for source in args.get("sources", ["logs"]):
        src = (ctx.root.path / source).resolve()
        if not src.is_relative_to(ctx.root.path) or not src.exists():
            missing.append(source)
            continue
        dest = target / Path(source).name
        try:
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
        except OSError as exc:
            return ActionResult(False, f"backup of {source} failed: {exc}", data={"target": str(target)})
        copied.append(source)
    if not copied:
        return ActionResult(True, f"nothing to back up ({', '.join(missing)} missing)",
                            data={"target": None, "copied": [], "missing": missing})
    note = f"; missing: {', '.join(missing)}" if missing else ""
    return ActionResult(True, f"copied {', '.join(copied)} to {ctx.root.rel(target)}{note}",
                        data={"target": ctx.root.rel(target), "copied": copied, "missing": missing})


# --- git.state ----------------------------------------------------------------------------------

def _git(root: Path, *argv: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", "-C", str(root), *argv], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


@action("git.state", effect="read", description="Recent commits, uncommitted changes, and the diff of a path.",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "path": _REL_PATH, "log": {"type": "integer", "minimum": 0, "maximum": 100, "default": 5}}})
def git_state(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    root = ctx.root.path
    probe = _git(root, "rev-parse", "--is-inside-work-tree")
    if probe is None or probe.returncode != 0 or probe.stdout.strip() != "true":
        why = "git is not installed" if probe is None else "not a git repository"
        return ActionResult(True, f"{why}: no change history to check", data={"git": False})
    log = _git(root, "log", f"-{int(args.get('log', 5))}", "--oneline")
    status = _git(root, "status", "--porcelain", "--", ".")
    commits = log.stdout.splitlines() if log and log.returncode == 0 else []
    changes = status.stdout.splitlines() if status and status.returncode == 0 else []
    parts = [f"{len(commits)} recent commit(s)", f"{len(changes)} uncommitted change(s)"]
    sections = ["$ git log --oneline", *commits, "", "$ git status --porcelain", *changes]
    data: dict[str, Any] = {"git": True, "commits": commits, "changes": changes}
    if "path" in args:
        diff = _git(root, "diff", "HEAD", "--", args["path"])
        text = diff.stdout if diff and diff.returncode == 0 else ""
        changed = bool(text.strip())
        parts.append(f"{args['path']} {'changed' if changed else 'unchanged'}")
        sections += ["", f"$ git diff HEAD -- {args['path']}", text.rstrip()]
        data.update(path=args["path"], path_changed=changed)
    return ActionResult(True, "; ".join(parts), redact_text("\n".join(sections)), data)


# --- ops.log ------------------------------------------------------------------------------------

@action("ops.log", effect="act", description="Append an entry to logs/operations.log.",
        describe=lambda a: f"append {a.get('message', '')!r} to logs/operations.log",
        schema={"type": "object", "additionalProperties": False, "required": ["message"], "properties": {
            "message": {"type": "string", "minLength": 1},
            "outcome": {"type": "string", "minLength": 1, "default": "ok"},
            "reason": {"type": "string"}}})
def ops_log(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    from peaktrade.oplog import append_operation

    line = append_operation(ctx.root, operator=ctx.operator, what=args["message"], play_id=ctx.play_id,
                            outcome=args.get("outcome", "ok"), reason=args.get("reason") or None,
                            clock=ctx.clock)
    return ActionResult(True, f"logged {args['message']!r} to logs/operations.log", line, {"line": line})


# --- env.check ----------------------------------------------------------------------------------

@action("env.check", effect="read", description="Environment variables are set (names only, never values).",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "required": {"type": "array", "items": _ENV_NAME, "default": []},
            "optional": {"type": "array", "items": _ENV_NAME, "default": []}}})
def env_check(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    def is_set(name: str) -> bool:
        return bool(os.environ.get(name))  # set but empty counts as missing: no credential there

    required, optional = args.get("required", []), args.get("optional", [])
    present = [n for n in [*required, *optional] if is_set(n)]
    missing = [n for n in required if not is_set(n)]
    optional_missing = [n for n in optional if not is_set(n)]
    summary = (f"missing required: {', '.join(missing)}" if missing
               else f"all {len(required)} required variable(s) set")
    if optional_missing:
        summary += f"; optional not set: {', '.join(optional_missing)}"
    return ActionResult(not missing, summary, data={"present": present, "missing": missing,
                                                    "optional_missing": optional_missing})
