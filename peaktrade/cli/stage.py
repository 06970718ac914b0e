"""`peaktrade stage status|promote --to STAGE`: the stage model of policies/stages.yaml."""

from __future__ import annotations

import typer

stage_app = typer.Typer(help="Stages shadow -> testnet -> live: where this deployment stands, and promotion.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(stage_app, name="stage")


@stage_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The current stage, the next transition with its evidence and checklist, and the live gate's switch."""
    from dataclasses import asdict

    from peaktrade.cli import _common
    from peaktrade.policy.promote import evidence, next_transition
    from peaktrade.policy.stages import current_stage, load_stage_policy, read_stage_record

    root = _common.root()
    policy = load_stage_policy(root)
    record = read_stage_record(root) or {}
    t = next_transition(root)
    ev = evidence(root, t) if t else []
    data = {"stage": current_stage(root), "since": record.get("since"), "by": record.get("by"),
            "live_enabled": policy.live_enabled,
            "next": None if t is None else {"to": t.to_stage, "decision": t.decision, "checklist": t.checklist,
                                            "evidence": [asdict(e) for e in ev]}}
    if as_json:
        _common.print_json(data)
        return
    since = f" since {data['since']} (by {data['by']})" if data["since"] else " (initial stage of policies/stages.yaml)"
    print(f"Stage: {data['stage']}{since}")
    print(f"live.enabled: {str(policy.live_enabled).lower()}")
    if t is None:
        print("No further stage.")
        return
    print(f"Next: {t.from_stage} -> {t.to_stage}, needs a {t.decision} approval")
    for e in ev:
        print(f"  [{'x' if e.ok else ' '}] {e.name}: {e.found} (needs {e.required})")
    for item in t.checklist:
        print(f"  [ ] {item}")


@stage_app.command("promote")
def promote(to: str = typer.Option(..., "--to", help="The next stage."),
            request_id: str = typer.Option(None, "--request", help="The signed approval request "
                                           "(default: the newest one for this transition)."),
            operator: str = typer.Option(None, "--operator", help="Who (default: $PEAKTRADE_OPERATOR)."),
            yes: bool = typer.Option(False, "--yes", help="Tick every checklist item without asking (the items are "
                             "attested by the approval's signers, who signed them with the request)."),
            key: str = typer.Option(None, "--key", envvar="PEAKTRADE_KEY",
                                    help="Your private SSH key: proves who promotes (default: ssh-agent)."),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Promote to the next stage: evidence, checklist confirmed, approval verified, checklist rendered, recorded."""
    from peaktrade.cli import _common
    from peaktrade.policy.approvals import default_person
    from peaktrade.policy.promote import promote as do_promote

    result = do_promote(_common.root(), to, operator=default_person(operator), request_id=request_id,
                        confirm=_confirmer(yes), via_yes=yes, key=key)
    if as_json:
        _common.print_json(result)
        return
    print(f"Stage is now {result['stage']} (from {result['from']}, approval {result['request_id']}); "
          f"checklist: {result['checklist']}")
    if result["stage"] == "live" and not result["live_enabled"]:
        print("Note: live.enabled is still false in policies/stages.yaml: the live gate stays closed.")


def _confirmer(yes: bool):
    import sys

    from peaktrade.errors import UsageError

    if yes:
        return lambda item: True

    def ask(item: str) -> bool:
        # refused only when a question is due: a wrong --to or missing evidence is said first
        if not sys.stdin.isatty():
            raise UsageError("stage promote asks to confirm each checklist item: run it in a terminal or pass --yes")
        return typer.confirm(f"  {item}?", default=False)

    return ask
