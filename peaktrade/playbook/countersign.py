"""``persons: 2`` on confirm and manual steps: the second person answers with their SSH signature.

The seed's "both confirm" / "both present" steps need a second human, not a flag: ``--yes`` never
answers them. The second person signs a statement naming the play, the step, its text and the
playbook's hash — at the operator's terminal (asked for their name and key), or from their own with
``peaktrade plays countersign PLAY_ID --step STEP --as NAME --key KEY`` while the play waits (it stops
and says who must sign; ``--resume`` then finds the signature). The signer must be listed in
policies/roles.yaml and must not be the operator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.errors import BlockedError, PeakTradeError, UsageError
from peaktrade.hashing import canonical_json
from peaktrade.playbook.result import StepResult

if TYPE_CHECKING:
    from peaktrade.playbook.context import Frame, PlayContext
    from peaktrade.playbook.model import Step
    from peaktrade.root import Root


def statement(ctx: PlayContext, frame: Frame, step: Step, text: str) -> dict[str, Any]:
    return {"purpose": "second person", "play_id": ctx.play_id, "step": frame.step_key(step.id), "text": text,
            "playbook": frame.playbook.name, "playbook_sha256": frame.playbook.sha256}


def _file(root: Root, play_id: str, step_key: str) -> Path:
    return root.plays_dir / play_id / "countersign" / (step_key.replace("/", "__") + ".json")


def sign(root: Root, stmt: dict[str, Any], *, name: str, key: str | None, operator: str) -> dict[str, Any]:
    """Sign ``stmt`` as ``name`` (never the operator) and store it next to the journal."""
    from peaktrade.fsutil import atomic_write_text
    from peaktrade.policy.identity import prove

    if name == operator:
        raise UsageError(f"{name} runs this play: the second person must be someone else")
    proof = prove(root, name, canonical_json(stmt).encode("utf-8"), key, what="second person")
    out = {"statement": stmt, "name": proof.name, "fingerprint": proof.fingerprint, "signature": proof.signature}
    path = _file(root, str(stmt["play_id"]), str(stmt["step"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out


def find(root: Root, stmt: dict[str, Any], operator: str) -> dict[str, Any] | None:
    """A stored signature over exactly ``stmt`` by a listed person other than the operator, else None."""
    from peaktrade.policy.identity import check

    try:
        doc = json.loads(_file(root, str(stmt["play_id"]), str(stmt["step"])).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("statement") != stmt or doc.get("name") == operator:
        return None
    fp = check(root, str(doc.get("name")), canonical_json(stmt).encode("utf-8"), doc.get("signature"))
    return {"name": doc["name"], "fingerprint": fp} if fp else None


def answer(ctx: PlayContext, frame: Frame, step: Step, text: str, done: str) -> StepResult:
    """The step's result: the second person's signature, asked for at a terminal, or a stop naming who signs."""
    stmt = statement(ctx, frame, step, text)
    found = find(ctx.root, stmt, ctx.operator)
    if found is None and ctx.prompter.interactive():
        name = ctx.prompter.ask(f"? {text}\n? Second person (name in policies/roles.yaml, not {ctx.operator}): ")
        if name:
            key = ctx.prompter.ask(f"? {name}'s SSH key (path; empty = ssh-agent): ") or None
            try:
                sign(ctx.root, stmt, name=name, key=key, operator=ctx.operator)
            except PeakTradeError as exc:
                return StepResult.failed(f"second person not confirmed: {exc.message}")
            found = find(ctx.root, stmt, ctx.operator)
    if found is None:
        play_name = ctx.top.name
        cmd = (f"peaktrade plays countersign {ctx.play_id} --step {stmt['step']} --as NAME --key KEY, "
               f"then peaktrade play {play_name} --resume {ctx.play_id}")
        via = " (--yes never answers a persons: 2 step)" if ctx.assume_yes else ""
        return StepResult(_failed(), f"needs the second person's signature{via}: a person of policies/roles.yaml "
                                     f"other than {ctx.operator} runs: {cmd}", data={"countersign": stmt})
    return StepResult.ok(f"{done} by {ctx.operator} and {found['name']} (second person, key {found['fingerprint']})",
                         answer="yes", data={"second_person": found})


def _failed():  # noqa: ANN202
    from peaktrade.playbook.result import Status

    return Status.FAILED


def for_cli(root: Root, play_id: str, step_key: str, *, name: str, key: str | None) -> dict[str, Any]:
    """``plays countersign``: sign the statement the waiting step journaled."""
    from peaktrade.playbook.journal import journal_path, read_records

    path = journal_path(root.plays_dir, play_id)
    if not path.is_file():
        raise UsageError(f"no play {play_id!r} (no {root.rel(path)})")
    records = read_records(path)
    waiting = [r for r in records if r.get("type") == "step_finished" and r.get("step") == step_key
               and isinstance((r.get("data") or {}).get("countersign"), dict)]
    if not waiting:
        raise BlockedError(f"play {play_id} has no step {step_key!r} waiting for a second person")
    stmt = waiting[-1]["data"]["countersign"]
    operator = str((records[0] or {}).get("operator", ""))
    return sign(root, stmt, name=name, key=key, operator=operator)
