"""Actions started outside a playbook (from a CLI command) go through the same guarded step execution.

``run_action`` wraps one registered action in a one-step play: the kill switch, the live gate and the
argument schema are enforced by ``executor.execute_step`` exactly as in ``peaktrade play``, and the act
leaves a journal, a checklist and an operations.log line like any play. Such a play is not resumable
(there is no playbook file to resume against).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from peaktrade.clock import SYSTEM_CLOCK, Clock
from peaktrade.errors import UsageError
from peaktrade.hashing import value_sha256
from peaktrade.playbook.context import Frame, Prompter
from peaktrade.playbook.model import Playbook, Step

if TYPE_CHECKING:
    from collections.abc import Callable

    from peaktrade.playbook.interpreter import PlayReport
    from peaktrade.root import Root


def _playbook(name: str, args: dict[str, Any], effect: str, stage: str) -> Playbook:
    raw = {"id": "action", "title": f"{name} (started outside a playbook)", "effect": effect, "action": name,
           "with": args}
    step = Step("action", raw["title"], effect, "action", raw)
    return Playbook(f"adhoc-{name}", f"Ad-hoc action {name}", 0, stage, Path(f"(adhoc {name})"),
                    value_sha256(raw), steps=[step])


def run_action(root: Root, name: str, args: dict[str, Any] | None = None, *, operator: str | None = None,
               assume_yes: bool = False, clock: Clock = SYSTEM_CLOCK,
               echo: Callable[[str], None] = print) -> PlayReport:
    """Run action ``name`` with ``args`` behind every guard; journaled like a play."""
    from peaktrade.actions.registry import get
    from peaktrade.hashing import policies_hash
    from peaktrade.playbook.interpreter import PlayRequest, _context, _execute, policy_files, resolve_operator
    from peaktrade.playbook.journal import Journal, journal_path, new_play_id

    spec = get(name)
    if spec is None:
        raise UsageError(f"unknown action {name!r}")
    args = dict(args or {})
    stage = "live" if "live" in (args.get("mode"), args.get("stage")) else "any"
    pb = _playbook(name, args, spec.effect, stage)
    req = PlayRequest(pb.name, assume_yes=assume_yes, operator=operator, clock=clock, echo=echo,
                      prompter=Prompter())
    who = resolve_operator(operator)
    play_id = new_play_id(clock)
    journal = Journal(journal_path(root.plays_dir, play_id), clock=clock)
    ctx = _context(root, req, pb, play_id, journal, policies_hash(root), who, False, {})
    journal.append("play_started", play_id=play_id, playbook=pb.name, title=pb.title, runbook=0, stage=stage,
                   playbook_file=None, playbook_sha256=pb.sha256, params={}, policies_hash=ctx.policies_hash,
                   policy_files=policy_files(root), operator=who, mode=ctx.mode,
                   flags={"dry_run": False, "yes": assume_yes, "adhoc": True}, on_failure=None,
                   plan=[{"id": "action", "title": pb.steps[0].title, "kind": "action", "effect": spec.effect}])
    return _execute(ctx, Frame(pb, {}))
