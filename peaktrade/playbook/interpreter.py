"""``play`` as a short pipeline: load -> validate -> resolve policy -> plan -> guard -> execute -> render.

``play`` starts a new play, ``resume`` continues one from its journal; both end in ``_finish``,
which journals the outcome, renders the checklist (and the incident report of a failed play) and
appends the operations.log line. Ctrl-C / SIGTERM (KeyboardInterrupt) ends as ``interrupted``.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade import snapshot
from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import BlockedError, UsageError
from peaktrade.fsutil import StorageError
from peaktrade.playbook import guards, pins, seal
from peaktrade.playbook.context import Frame, PlayContext, Prompter
from peaktrade.playbook.evidence import excerpt
from peaktrade.playbook.executor import run_frame, run_subplay
from peaktrade.playbook.journal import Journal, journal_path, new_play_id, read_records, verify_journal
from peaktrade.playbook.model import Playbook, load_playbook
from peaktrade.playbook.params import resolve_params, split_assignments
from peaktrade.playbook.redaction import mask_params, register_params
from peaktrade.playbook.result import Outcome

if TYPE_CHECKING:
    from peaktrade.root import Root

EVIDENCE_INDENT = " " * 11  # under the step key of the status line
HUMAN_KINDS = ("confirm", "decide", "manual", "approve")


@dataclass
class PlayRequest:
    name: str
    params: list[str] = field(default_factory=list)  # "K=V"
    answers: list[str] = field(default_factory=list)  # "STEP_ID=OPTION"
    dry_run: bool = False
    assume_yes: bool = False
    resume: str | None = None
    operator: str | None = None
    key: str | None = None  # --key: the operator's SSH key (proves who they are); None: ssh-agent
    clock: Clock = SYSTEM_CLOCK
    echo: Callable[[str], None] = print
    prompter: Prompter | None = None


@dataclass
class PlayReport:
    play_id: str
    playbook: str
    outcome: Outcome
    reason: str | None
    journal: Path
    checklist: Path | None = None
    incident: Path | None = None

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code


def resolve_operator(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("PEAKTRADE_OPERATOR"):
        return os.environ["PEAKTRADE_OPERATOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def policy_files(root: Root) -> dict[str, str]:
    from peaktrade.hashing import file_sha256

    return {root.rel(p): file_sha256(p) for p in sorted(root.policies_dir.glob("*.yaml"))}


def _decide_steps(root: Root, pb: Playbook, prefix: str = "", depth: int = 0) -> dict[str, list[str]]:
    """Every decide step reachable from ``pb`` (sub-playbooks included): key -> options."""
    out: dict[str, list[str]] = {}
    for s in pb.steps:
        key = f"{prefix}/{s.id}" if prefix else s.id
        if s.kind == "decide":
            out[key] = list(s.body["options"])
            out.setdefault(s.id, list(s.body["options"]))
        elif s.kind == "playbook" and depth < 5:
            try:
                out.update({k: v for k, v in _decide_steps(root, load_playbook(root, s.body), key, depth + 1).items()
                            if k not in out})
            except UsageError:
                pass  # reported when the sub-run starts
    return out


def check_answers(root: Root, pb: Playbook, raw: list[str]) -> dict[str, str]:
    answers = split_assignments(raw, "--answer")
    decide = _decide_steps(root, pb)
    for key, value in answers.items():
        if key not in decide:
            raise UsageError(f"--answer {key}={value}: {pb.name} has no decide step {key!r}",
                             details=[f"decide steps: {', '.join(decide) or '(none)'}"])
        if value not in decide[key]:
            raise UsageError(f"--answer {key}={value}: not one of {', '.join(decide[key])}")
    return answers


class _EvidenceJournal(Journal):
    """The play's journal, which also hands each finished step's output to the console: the
    executor prints a step's status line right after journaling it, and the evidence follows."""

    def __init__(self, path: Path, *, clock: Clock, echo: Callable[[str], None]):
        super().__init__(path, clock=clock)
        self._echo = echo
        self._pending: list[str] = []
        self._seen: set[str] = set()  # lines an action echoed itself are not repeated

    def append(self, type_: str, **fields: Any) -> dict[str, Any]:
        record = super().append(type_, **fields)
        if type_ == "step_started":
            self._seen.clear()
        elif type_ == "step_finished":
            said = self._seen | {str(record.get("summary") or "").strip()}  # never the status line again
            self._pending = [ln for ln in excerpt(record.get("output")) if ln.strip() not in said]
        return record

    def echo(self, line: str) -> None:
        self._echo(line)
        self._seen.update(part.strip() for part in line.splitlines())
        pending, self._pending = self._pending, []
        for ln in pending:  # journaled records are redacted already
            self._echo(f"{EVIDENCE_INDENT}{ln}")


def _journal(root: Root, play_id: str, req: PlayRequest) -> _EvidenceJournal:
    return _EvidenceJournal(journal_path(root.plays_dir, play_id), clock=req.clock, echo=req.echo)


def preflight(root: Root, params: dict[str, Any]) -> None:
    """Params that name something of the desk are checked before the play starts: a typo in a run id
    or a profile is a usage error (exit 2, no journal, no incident), not a failed step halfway through."""
    from peaktrade.config import load_config
    from peaktrade.monitor.runs import run_dir

    if params.get("run_id"):
        try:
            run_dir(root, str(params["run_id"]))
        except UsageError as exc:
            raise UsageError(f"param run_id: {exc.message}") from None
    if params.get("profile"):
        profiles = load_config(root).get("session.profiles") or {}
        if params["profile"] not in profiles:
            raise UsageError(f"param profile: unknown profile {params['profile']!r} "
                             f"(config/config.toml [session.profiles]: {', '.join(sorted(profiles)) or 'none'})")


def _context(root: Root, req: PlayRequest, pb: Playbook, play_id: str, journal: Journal, phash: str,
             operator: str, dry_run: bool, answers: dict[str, str]) -> PlayContext:
    from peaktrade.config import load_config
    from peaktrade.redact import redact, redact_text

    config = load_config(root)
    show = journal.echo if isinstance(journal, _EvidenceJournal) else req.echo  # evidence under status lines
    return PlayContext(root, operator, play_id, journal, pb, phash, redact(config.data), config.mode,
                       pinned=pins.pin(root), clock=req.clock, dry_run=dry_run, assume_yes=req.assume_yes,
                       answers=answers, prompter=req.prompter or Prompter(), operator_key=req.key,
                       echo=lambda line: show(redact_text(line)))  # secrets never reach the console


def play(root: Root, req: PlayRequest) -> PlayReport:
    """Start a new play (or resume one when ``req.resume`` is set)."""
    if req.resume:
        return resume(root, req)
    from peaktrade.config import load_config
    from peaktrade.hashing import policies_hash

    pb = load_playbook(root, req.name)
    params = resolve_params(pb, split_assignments(req.params))
    register_params(pb, params)  # secret params: masked wherever their values appear from now on
    load_config(root)  # invalid config is bad input: refuse before a journal exists
    preflight(root, params)
    answers = check_answers(root, pb, req.answers)
    operator = resolve_operator(req.operator)
    play_id = new_play_id(req.clock)
    journal = _journal(root, play_id, req)
    ctx = _context(root, req, pb, play_id, journal, policies_hash(root), operator, req.dry_run, answers)
    journal.append("play_started", play_id=play_id, playbook=pb.name, title=pb.title, runbook=pb.runbook,
                   stage=pb.stage, playbook_file=root.rel(pb.path), playbook_sha256=pb.sha256,
                   params=mask_params(pb, params),
                   policies_hash=ctx.policies_hash, policy_files=policy_files(root), operator=operator,
                   mode=ctx.mode, flags={"dry_run": req.dry_run, "yes": req.assume_yes, "answers": ctx.answers},
                   on_failure=pb.on_failure, plan=plan(pb))
    ctx.desk_row = seal.record_progress(root, play_id, read_records(journal.path))  # the desk knows it from now on
    return _execute(ctx, Frame(pb, params))


def plan(pb: Playbook) -> list[dict[str, str]]:
    return [{"id": s.id, "title": s.title, "kind": s.kind, "effect": s.effect} for s in pb.steps]


def _refuse_changes(root: Root, records: list[dict[str, Any]], play_id: str) -> None:
    from peaktrade.hashing import file_sha256

    started = records[0]
    changed = []
    for rec in records:
        if rec.get("type") == "play_started" or rec.get("type") == "subplay_started":
            path = root.playbook_file(rec["playbook"])
            if not path.is_file() or file_sha256(path) != rec.get("playbook_sha256"):
                changed.append(root.rel(path))
    now = policy_files(root)
    before = started.get("policy_files") or {}
    changed += sorted(f for f in set(now) | set(before) if now.get(f) != before.get(f))
    if changed:
        names = ", ".join(dict.fromkeys(changed))
        raise BlockedError(f"cannot resume play {play_id}: changed since it started: {names}",
                           details=["start a new play to run the changed playbook or policies"])


def _resume_params(pb: Playbook, recorded: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """The play's own params; a secret one was journaled masked and must be given again with -p."""
    from peaktrade.redact import MASK

    masked = sorted(k for k, v in recorded.items() if v == MASK and k in pb.params)
    extra = sorted(set(given) - set(masked))
    if extra:
        raise UsageError(f"--resume keeps the params of the play; do not pass -p {extra[0]}"
                         + (f" (only the secret params {', '.join(masked)} are given again)" if masked else ""))
    missing = [k for k in masked if k not in given]
    if missing:
        raise UsageError(f"--resume: the secret param(s) {', '.join(missing)} were not journaled; "
                         f"pass them again ({' '.join(f'-p {k}=...' for k in missing)})")
    return {**recorded, **given}


def resume(root: Root, req: PlayRequest) -> PlayReport:
    from peaktrade.hashing import policies_hash

    play_id = req.resume or ""
    path = journal_path(root.plays_dir, play_id)
    if not path.is_file():
        raise UsageError(f"no play {play_id!r} (no {root.rel(path)})")
    check = verify_journal(path)
    if not check.ok:
        raise BlockedError(f"cannot resume play {play_id}: its journal is TAMPERED", details=check.problems)
    sealed = seal.verify_play(root, play_id)  # chain, signature, desk records: a rewritten journal is refused
    if not sealed.ok:
        raise BlockedError(f"cannot resume play {play_id}: its journal fails verification "
                           f"({', '.join(sealed.findings)})", details=sealed.problems)
    records = check.records
    started = records[0] if records else {}
    if started.get("type") != "play_started":
        raise BlockedError(f"cannot resume play {play_id}: the journal has no play_started record")
    if started.get("play_id") != play_id:
        # a journal copied into another folder would otherwise overwrite the original's checklist
        raise BlockedError(f"cannot resume play {play_id}: its journal records play id "
                           f"{str(started.get('play_id'))[:80]!r}, not the folder's name",
                           details=["a copied or moved journal is not resumable; start a new play"])
    if started["playbook"] != req.name:
        raise UsageError(f"play {play_id} ran playbook {started['playbook']!r}, not {req.name!r}")
    given = split_assignments(req.params)
    if started.get("flags", {}).get("dry_run") or req.dry_run:
        raise UsageError(f"play {play_id}: a dry run cannot be resumed (or resumed as one); start a new play")
    finished = [r for r in records if r.get("type") == "play_finished"]
    if finished and finished[-1].get("outcome") == Outcome.SUCCEEDED:
        raise UsageError(f"play {play_id} already succeeded; nothing to resume")
    _refuse_changes(root, records, play_id)
    pb = load_playbook(root, req.name)
    params = resolve_params(pb, _resume_params(pb, started.get("params") or {}, given))
    register_params(pb, params)
    operator = resolve_operator(req.operator)
    answers = check_answers(root, pb, req.answers)
    journal = _journal(root, play_id, req)
    ctx = _context(root, req, pb, play_id, journal, policies_hash(root), operator, False, answers)
    for rec in records:
        if rec.get("type") == "step_finished":
            ctx.prior.setdefault(rec.get("frame") or "", {})[rec["id"]] = rec
            ctx.interrupted.get(rec.get("frame") or "", set()).discard(rec["id"])
        elif rec.get("type") == "step_started":
            ctx.interrupted.setdefault(rec.get("frame") or "", set()).add(rec["id"])
    journal.append("play_resumed", play_id=play_id, operator=operator,
                   flags={"yes": req.assume_yes, "answers": ctx.answers})
    ctx.desk_row = seal.record_progress(root, play_id, read_records(journal.path))
    return _execute(ctx, Frame(pb, params))


def _execute(ctx: PlayContext, frame: Frame) -> PlayReport:
    with snapshot.pinned(ctx.root, ctx.pinned):  # every step sees the settings of the play's start
        return _execute_pinned(ctx, frame)


def _execute_pinned(ctx: PlayContext, frame: Frame) -> PlayReport:
    try:
        refusal = guards.evaluate_guards(ctx, frame)
        if refusal:
            outcome, reason = Outcome.BLOCKED, refusal
        else:
            outcome, reason = run_frame(ctx, frame)
        if outcome == Outcome.FAILED and (frame.playbook.on_failure or {}).get("playbook"):
            of = frame.playbook.on_failure or {}
            ctx.echo(f"play failed: running on_failure playbook {of['playbook']}")
            run_subplay(ctx, frame, "on_failure", of["playbook"], of.get("with") or {})
        ctx.journal.append("play_finished", play_id=ctx.play_id, playbook=frame.playbook.name,
                           outcome=str(outcome), reason=reason)
    except KeyboardInterrupt:
        outcome, reason = Outcome.INTERRUPTED, "interrupted by the operator (SIGINT/SIGTERM)"
        ctx.journal.append("play_interrupted", play_id=ctx.play_id, playbook=frame.playbook.name,
                           operator=ctx.operator, reason=reason)
    except StorageError:
        # the disk refused a journal record: it was cut back whole, so writing more cannot help
        ctx.journal.close()
        raise
    except Exception as exc:
        # a bug outside any step: the journal still says how the play ended, then the CLI reports it
        ctx.journal.append("play_finished", play_id=ctx.play_id, playbook=frame.playbook.name,
                           outcome=str(Outcome.FAILED), reason=f"internal error: {type(exc).__name__}: {exc}")
        ctx.journal.close()
        raise
    return _finish(ctx, frame.playbook, outcome, reason)


def _finish(ctx: PlayContext, pb: Playbook, outcome: Outcome, reason: str | None) -> PlayReport:
    from peaktrade.oplog import append_operation
    from peaktrade.playbook.journal import read_records
    from peaktrade.playbook.render import render_checklist, render_incident

    ctx.journal.close()
    # the end of the play in the desk state, and the head signed (operator's key, else the desk key)
    sig = seal.seal(ctx.root, ctx.play_id, outcome=str(outcome), operator=ctx.operator, identity=ctx.identity,
                    key=ctx.operator_key, clock=ctx.clock)
    records = read_records(ctx.journal.path)
    report = PlayReport(ctx.play_id, pb.name, outcome, reason, ctx.journal.path)
    report.checklist = render_checklist(ctx.root, records)
    if outcome == Outcome.FAILED and opens_incident(records, dry_run=ctx.dry_run):
        report.incident = render_incident(ctx.root, records)
    what = pb.name + (" (dry-run)" if ctx.dry_run else "")
    append_operation(ctx.root, operator=ctx.operator, what=what, play_id=ctx.play_id, outcome=str(outcome),
                     reason=reason, clock=ctx.clock, head=sig["head"])
    return report


def opens_incident(records: list[dict[str, Any]], *, dry_run: bool) -> bool:
    """A failed play opens an incident, except a dry run (it changed nothing) and a play that ended
    because the operator did not go ahead (a confirmation declined or unanswered, no terminal for a
    decision) before any act step ran: then nothing happened that needs a report."""
    if dry_run:
        return False
    for rec in (r for r in records if r.get("type") == "step_finished"):
        if rec.get("status") in ("failed", "errored"):
            return rec.get("kind") not in HUMAN_KINDS
        if rec.get("effect") == "act" and rec.get("status") == "succeeded":
            return True
    return True

