"""Generic system actions the operational playbooks need (runbooks 4-6): disk, logs,
backups, git state, the operations log, environment variables.

Everything here reads the deployment root and the local machine only: no network, no exchange.
Output passes through the redactor because command lines and log lines can carry secrets.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from peaktrade.actions.registry import ActionContext, ActionResult, action
from peaktrade.redact import redact_text

_REL_PATH = {"type": "string", "minLength": 1, "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).*$"}
_ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
def _regex(pattern: str) -> re.Pattern[str] | ActionResult:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        return ActionResult(False, f"invalid pattern {pattern!r}: {exc}")


# processes.list and processes.stop: peaktrade/actions/processes.py


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

ALLOWLIST = "policies/log-allowlist.yaml"
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")


def _allow_rules(ctx: ActionContext) -> list[tuple[str, re.Pattern[str], str]] | ActionResult:
    """(file glob, line pattern, reason) of the documented allow-list; a broken list fails the scan."""
    from peaktrade.loader import load_yaml

    path = ctx.root.path / ALLOWLIST
    if not path.is_file():
        return []
    loaded = load_yaml(path, ALLOWLIST)
    entries = (loaded.data or {}).get("allow") if isinstance(loaded.data, dict) else None
    if loaded.problems or not isinstance(entries, list):
        return ActionResult(False, f"{ALLOWLIST} is not a valid allow-list: run `peaktrade validate {ALLOWLIST}`")
    rules = []
    for n, entry in enumerate(entries):
        try:
            rules.append((str(entry.get("files", "logs/*.log")), re.compile(str(entry["pattern"])),
                          str(entry.get("reason", ""))))
        except (AttributeError, KeyError, re.error) as exc:
            return ActionResult(False, f"{ALLOWLIST}: entry {n + 1}: {exc}")
    return rules


def _stamp(line: str) -> datetime | None:
    m = _STAMP.match(line)
    if not m:
        return None
    try:
        return datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}+00:00")
    except ValueError:
        return None


@action("logs.scan_errors", effect="read",
        description="Find error/critical/exception lines in log files; with the allow-list, fail on the "
                    "ones it does not explain (showing them).",
        schema={"type": "object", "additionalProperties": False, "properties": {
            "glob": {**_REL_PATH, "default": "logs/*.log"},
            "pattern": {"type": "string", "minLength": 1, "default": "error|critical|exception"},
            "tail": {"type": "integer", "minimum": 0, "default": 20},
            "fail_on_match": {"type": "boolean", "default": False,
                              "description": "fail when a matching line is left (after the allow-list)"},
            "allowlist": {"type": "boolean", "default": False,
                          "description": f"lines covered by {ALLOWLIST} are explained, not matches"},
            "since_hours": {"type": "number", "exclusiveMinimum": 0,
                            "description": "only lines stamped within the last N hours (unstamped lines count)"},
            "min_matches": {"type": "integer", "minimum": 0, "default": 0,
                            "description": "fail with fewer matching lines (e.g. one 'Shutdown complete')"}}})
def logs_scan_errors(ctx: ActionContext, args: dict[str, Any]) -> ActionResult:
    rx = _regex(args.get("pattern", "error|critical|exception"))
    if isinstance(rx, ActionResult):
        return rx
    rules = _allow_rules(ctx) if args.get("allowlist") else []
    if isinstance(rules, ActionResult):
        return rules
    since = ctx.clock.now() - timedelta(hours=float(args["since_hours"])) if "since_hours" in args else None
    files = sorted(p for p in ctx.root.path.glob(args.get("glob", "logs/*.log")) if p.is_file())
    last: deque[str] = deque(maxlen=int(args.get("tail", 20)))
    count = explained = 0
    for path in files:
        rel = ctx.root.rel(path)
        applicable = [(rx_, why) for glob, rx_, why in rules if fnmatch.fnmatch(rel, glob)]
        stamp = None
        with open(path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                stamp = _stamp(line) or stamp  # a traceback's lines belong to the stamped line above
                if not rx.search(line) or (since is not None and stamp is not None and stamp < since):
                    continue
                if any(r.search(line) for r, _ in applicable):
                    explained += 1
                    continue
                count += 1
                last.append(f"{rel}:{lineno}: {line.rstrip()}")
    what = "unexplained line(s)" if args.get("allowlist") else "matching line(s)"
    summary = f"{count} {what} in {len(files)} log file(s)"
    if args.get("allowlist"):
        summary += f" ({explained} explained by {ALLOWLIST})"
    if since is not None:
        summary += f", last {float(args['since_hours']):g} h"
    minimum = int(args.get("min_matches", 0))
    ok = not (args.get("fail_on_match", False) and count) and count >= minimum
    if count < minimum:
        summary += f"; expected at least {minimum}"
    return ActionResult(ok, summary, redact_text("\n".join(last)),
                        {"files": [ctx.root.rel(p) for p in files], "count": count, "explained": explained,
                         "lines": [redact_text(x) for x in last]})


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
