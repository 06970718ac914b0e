"""The one place a step is executed, and every guard enforced: ``execute_step``.

``play``, ``--resume``, ``--dry-run`` and sub-playbooks all reach a step through here. The order
is: ``when`` -> prepare (render, check arguments) -> kill switch -> live gate -> dry-run -> run with
retries. In a dry run a kind's ``dry_run`` (confirm, manual, decide, approve) replaces its
``execute``: nothing prompts, nothing fails for want of a terminal, no approval is bound.
Exceptions of a kind become results here; only an interruption passes through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peaktrade.actions.registry import get as get_action
from peaktrade.errors import BlockedError, PeakTradeError
from peaktrade.playbook import guards, kinds, pins, seal
from peaktrade.playbook.context import Frame
from peaktrade.playbook.kinds import Prepared, PrepareError
from peaktrade.playbook.result import DONE, Outcome, Status, StepResult
from peaktrade.templating import TemplateError, evaluate

if TYPE_CHECKING:
    from peaktrade.playbook.context import PlayContext
    from peaktrade.playbook.model import Step

MAX_DEPTH = 5
OUTPUT_CHARS = 4000  # the journal keeps an excerpt (the end, where errors are), not whole outputs
SUMMARY_CHARS = 500
# Act steps that reduce risk stay allowed while the kill switch is engaged: an emergency
# shutdown must still be able to stop runs, cancel orders and write its records.
RISK_REDUCING = ("kill_switch.", "killswitch.", "runs.stop", "processes.stop", "orders.cancel", "orders.liquidate",
                 "ops.log", "logs.backup", "backup.", "incident.", "notify")


def _risk_reducing(step: Step) -> bool:
    """An act step allowed while the kill switch is engaged: an action that declares ``risk_reducing``."""
    if step.kind != "action":
        return False
    spec = get_action(step.body)
    return bool(spec is not None and (spec.risk_reducing or spec.name.startswith(RISK_REDUCING)))


def template_context(ctx: PlayContext, frame: Frame) -> dict[str, Any]:
    return {
        "params": frame.params,
        "steps": frame.steps,
        "play": {"id": ctx.play_id, "operator": ctx.operator, "playbook": frame.playbook.name,
                 "dry_run": ctx.dry_run},
        "config": ctx.config,
        "mode": ctx.mode,
    }


def _guard(ctx: PlayContext, frame: Frame, step: Step, kind: kinds.StepKind,
           prep: Prepared) -> tuple[str | None, str | None]:
    """(the reason this step is blocked or None, why it is live or None)."""
    if not kind.gated:
        return None, None
    if prep.effect == "act" and not _risk_reducing(step):
        state = guards.kill_switch_state(ctx)
        if state != "ACTIVE":
            return f"kill switch is {state}: act steps are blocked", None
    why = guards.live_reason(ctx, frame, with_=prep.with_, argv=prep.argv, live_sensitive=prep.live_sensitive)
    if why:
        refusal = guards.check_live_gate(ctx, f"live step {frame.step_key(step.id)}", frame)
        if refusal:
            return f"{refusal} (live because {why})", why
    return None, why


def _attempt(ctx: PlayContext, frame: Frame, step: Step, kind: kinds.StepKind, prep: Prepared) -> StepResult:
    try:
        return kind.execute(ctx, frame, step, prep)
    except BlockedError as exc:
        return StepResult.blocked(exc.message)
    except (PeakTradeError, TemplateError) as exc:
        return StepResult.errored(getattr(exc, "message", str(exc)))
    except Exception as exc:  # noqa: BLE001 - a crashing action is an errored step, not a crashed play
        return StepResult.errored(f"{type(exc).__name__}: {exc}")


def _run(ctx: PlayContext, frame: Frame, step: Step) -> tuple[StepResult, int]:
    from jinja2 import TemplateError as JinjaError  # StrictUndefined raises when a result is used

    tctx = template_context(ctx, frame)
    if step.when is not None:
        try:
            if not evaluate(step.when, tctx):
                return StepResult(Status.SKIPPED, f"when: {step.when} is false"), 0
        except (TemplateError, JinjaError) as exc:
            return StepResult.errored(f"when: {step.when}: {getattr(exc, 'message', None) or exc}"), 0
    kind = kinds.get(step.kind)
    try:
        prep = kind.prepare(ctx, frame, step, tctx)
    except (PrepareError, TemplateError) as exc:
        return StepResult.errored(str(exc)), 0
    except JinjaError as exc:
        return StepResult.errored(f"template: {exc}"), 0
    refusal, live = _guard(ctx, frame, step, kind, prep)
    if refusal:
        return StepResult.blocked(refusal), 0
    if prep.effect == "act" and not ctx.dry_run:
        changed = pins.changed(ctx)
        if changed:
            return StepResult.blocked(f"{', '.join(changed)} changed since the play started: act steps use the "
                                      "inputs the play started with; start a new play"), 0
        interrupted = pins.interrupted_refusal(ctx, frame, step)
        if interrupted:
            return StepResult.blocked(interrupted), 0
    if ctx.dry_run:
        dry = getattr(kind, "dry_run", None)  # human and approve steps: never prompt, never bind
        if dry is not None:
            return dry(ctx, frame, step, prep), 0
        if live:  # a dry run touches nothing live, not even to read; its approvals are not bound
            return StepResult(Status.WOULD_RUN, f"would {prep.describe} (live because {live}; "
                                                f"{guards.dry_run_gate_note(ctx)})"), 0
        if prep.effect == "act" and step.kind != "playbook":
            return StepResult(Status.WOULD_RUN, f"would {prep.describe}"), 0
    retries = step.retries or {}
    attempts, delay = int(retries.get("attempts", 1)), float(retries.get("backoff_s", 1.0))
    for attempt in range(1, attempts + 1):
        result = _attempt(ctx, frame, step, kind, prep)
        if result.status not in (Status.FAILED, Status.ERRORED) or attempt == attempts:
            return result, attempt
        ctx.echo(f"  retry {step.id}: attempt {attempt}/{attempts} {result.status}: {result.summary}; "
                 f"next in {delay:g}s")
        ctx.clock.sleep(delay)
        delay = min(delay * float(retries.get("factor", 2.0)), float(retries.get("max_backoff_s", 60.0)))
    raise AssertionError("unreachable")  # pragma: no cover


def execute_step(ctx: PlayContext, frame: Frame, step: Step) -> StepResult:
    """Execute one step behind every guard; journal it (fsynced) before returning."""
    key = frame.step_key(step.id)
    ctx.journal.append("step_started", step=key, id=step.id, frame=frame.path, playbook=frame.playbook.name,
                       title=step.title, kind=step.kind, effect=step.effect, operator=ctx.operator)
    t0 = ctx.clock.monotonic()
    result, attempts = _run(ctx, frame, step)
    duration = round(ctx.clock.monotonic() - t0, 6)
    ctx.journal.append(
        "step_finished", step=key, id=step.id, frame=frame.path, playbook=frame.playbook.name, title=step.title,
        kind=step.kind, effect=step.effect, status=str(result.status), summary=_clip(result.summary),
        output=_excerpt(result.output), duration_s=duration, operator=ctx.operator, note=result.note or step.note,
        answer=result.answer, approvals=result.approvals, attempts=attempts, data=result.data,
    )
    # the desk state follows the journal step by step: after a crash, records past this point can only be
    # the one step that was running, so records appended to a crashed play's journal are detected
    if ctx.desk_row is not None:
        ctx.desk_row = seal.record_step(ctx.root, ctx.desk_row, ctx.journal.seq, ctx.journal.last_hash)
    frame.steps[step.id] = {"status": str(result.status), "answer": result.answer, "data": result.data,
                            "summary": result.summary}
    ctx.echo(step_line(str(result.status), key, step.title, duration, _clip(result.summary)))
    return result


def _excerpt(text: str) -> str:
    return text if len(text) <= OUTPUT_CHARS else "[...]\n" + text[-OUTPUT_CHARS:]


def _clip(text: str) -> str:
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 3] + "..."


def step_line(status: str, key: str, title: str, duration: float | None, summary: str) -> str:
    dur = f" ({duration:.2f}s)" if duration is not None else ""
    return f"{status:<10} {key}  {title}{dur}" + (f" - {summary}" if summary else "")


def _restore(ctx: PlayContext, frame: Frame, step: Step, rec: dict[str, Any]) -> None:
    frame.steps[step.id] = {k: rec.get(k) for k in ("status", "answer", "data", "summary")}
    ctx.echo(step_line(f"{rec['status']}*", frame.step_key(step.id), step.title, None, "done before the resume"))


def run_frame(ctx: PlayContext, frame: Frame) -> tuple[Outcome, str | None]:
    """Run a (sub-)playbook's steps in order; (outcome, reason)."""
    for s in frame.playbook.steps:
        frame.steps[s.id] = {"status": "pending", "answer": None, "data": {}, "summary": ""}
    prior = ctx.prior.get(frame.path, {})
    resuming = bool(prior)
    tolerated: list[str] = []
    for step in frame.playbook.steps:
        rec = prior.get(step.id) if resuming else None
        # approvals are guards: re-verified on resume like every other guard
        if rec is not None and rec.get("status") in DONE and step.kind != "approve":
            _restore(ctx, frame, step, rec)
            continue
        if rec is None or rec.get("status") not in DONE:
            resuming = False
        result = execute_step(ctx, frame, step)
        key = frame.step_key(step.id)
        if result.status in DONE:
            continue
        if result.status == Status.BLOCKED:
            return Outcome.BLOCKED, f"step {key} blocked: {result.summary}"
        if step.on_failure == "continue":
            tolerated.append(key)
            continue
        if isinstance(step.on_failure, dict):
            run_subplay(ctx, frame, f"{key}.on_failure", step.on_failure["playbook"], step.on_failure.get("with") or {})
        return Outcome.FAILED, f"step {key} {result.status}: {result.summary}"
    if tolerated:  # the play goes on, but its outcome line must not hide them
        return Outcome.SUCCEEDED, f"{len(tolerated)} step(s) failed under on_failure: continue: {', '.join(tolerated)}"
    return Outcome.SUCCEEDED, None


def run_subplay(ctx: PlayContext, parent: Frame, path: str, name: str, with_: dict[str, Any]) -> StepResult:
    """Run playbook ``name`` as a sub-run (own guards, same journal) and map its outcome to a step result."""
    from peaktrade.playbook.model import load_playbook
    from peaktrade.playbook.params import resolve_params
    from peaktrade.playbook.redaction import mask_params, register_params

    if parent.depth >= MAX_DEPTH:
        return StepResult.errored(f"sub-playbooks nested deeper than {MAX_DEPTH} (a cycle?)")
    try:
        pb = load_playbook(ctx.root, name)
        params = resolve_params(pb, with_)
        register_params(pb, params)  # a sub-playbook's secret params are masked like the top level's
    except PeakTradeError as exc:
        return StepResult.errored(f"sub-playbook {name}: {exc.message}" + "".join(f"; {d}" for d in exc.details))
    frame = Frame(pb, params, path=path, depth=parent.depth + 1)
    ctx.journal.append("subplay_started", frame=path, playbook=name, title=pb.title, playbook_sha256=pb.sha256,
                       params=mask_params(pb, params),
                       plan=[{"id": s.id, "title": s.title, "kind": s.kind, "effect": s.effect} for s in pb.steps])
    refusal = guards.evaluate_guards(ctx, frame)
    outcome, reason = (Outcome.BLOCKED, refusal) if refusal else run_frame(ctx, frame)
    ctx.journal.append("subplay_finished", frame=path, playbook=name, outcome=str(outcome), reason=reason)
    summary = f"sub-playbook {name} {outcome}" + (f": {reason}" if reason else "")
    status = {Outcome.SUCCEEDED: Status.SUCCEEDED, Outcome.BLOCKED: Status.BLOCKED}.get(outcome, Status.FAILED)
    return StepResult(status, summary, sub_outcome=str(outcome))
