"""`peaktrade approvals request|sign|verify|list`: signed two-person approvals (DESIGN 7)."""

from __future__ import annotations

import typer

approvals_app = typer.Typer(help="Two-person approvals signed with SSH keys (policies/roles.yaml).",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(approvals_app, name="approvals")


@approvals_app.command("request")
def request(decision: str = typer.Option(..., "--decision", help="A decision of policies/roles.yaml."),
            playbook: str = typer.Option(None, "--playbook", help="The playbook the approval is for."),
            param: list[str] = typer.Option([], "-p", "--param", help="NAME=VALUE, as for `peaktrade play`."),
            kill_switch: bool = typer.Option(False, "--kill-switch", help="Approve releasing the engaged kill switch."),
            stage_to: str = typer.Option(None, "--stage-to", help="Approve promoting the current stage to STAGE."),
            requester: str = typer.Option(None, "--requester", help="Who asks (default: $PEAKTRADE_OPERATOR)."),
            expires_in: str = typer.Option("4h", "--expires-in", help="e.g. 30m, 4h, 2d"),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Create a request bound to one playbook run, the engaged kill switch, or a stage promotion."""
    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.policy import approvals

    if sum([playbook is not None, kill_switch, stage_to is not None]) != 1:
        raise UsageError("say what the approval is for: exactly one of --playbook, --kill-switch, --stage-to")
    if param and playbook is None:
        raise UsageError("-p only applies to --playbook requests")
    root = _common.root()
    subject = _subject(root, playbook, param, kill_switch, stage_to)
    doc = approvals.create_request(root, decision, subject, requester=approvals.default_person(requester),
                                   expires_in=approvals.parse_duration(expires_in))
    req = doc["request"]
    if as_json:
        _common.print_json(req)
        return
    print(f"Created approval request {req['id']} for {decision}: {approvals.describe_subject(req['subject'])}")
    print(f"  requester {req['requester']}, expires {req['expires_at']}")
    print(f"  each approver runs: peaktrade approvals sign {req['id']} --as NAME --key ~/.ssh/id_ed25519")


def _subject(root, playbook, param, kill_switch, stage_to):
    from peaktrade.errors import UsageError
    from peaktrade.policy import approvals

    if playbook is not None:
        from peaktrade.playbook.params import split_assignments

        return approvals.playbook_subject(root, playbook, split_assignments(param))
    if kill_switch:
        from peaktrade.policy.killswitch import KillSwitch

        st = KillSwitch(root).status()
        if st.state != "KILLED":
            raise UsageError(f"the kill switch is {st.word}, not engaged: there is nothing to release")
        return {"kind": "kill_switch", "engaged_since": st.engaged_since}
    from peaktrade.policy.stages import current_stage

    return {"kind": "stage_promotion", "from": current_stage(root), "to": stage_to}


@approvals_app.command("sign")
def sign(request_id: str = typer.Argument(..., help="The request id."),
         as_name: str = typer.Option(..., "--as", help="Your name in policies/roles.yaml."),
         key: str = typer.Option(..., "--key", help="Your private SSH key (or its .pub with ssh-agent).")) -> None:
    """Sign a request with your SSH key (ssh-keygen -Y sign, namespace peaktrade)."""
    from pathlib import Path

    from peaktrade.cli import _common
    from peaktrade.policy import approvals

    doc = approvals.sign_request(_common.root(), request_id, name=as_name, key_path=Path(key).expanduser())
    last = doc["signatures"][-1]
    print(f"{as_name} signed {request_id} with key {last['fingerprint']} "
          f"({len(doc['signatures'])} signature(s): {', '.join(s['name'] for s in doc['signatures'])})")


@approvals_app.command("verify")
def verify(request_id: str = typer.Argument(..., help="The request id."),
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Verify every signature and the decision's roles. Exit 0 valid, 3 refused (with the reasons)."""
    from peaktrade.cli import _common
    from peaktrade.policy.approvals import load_request
    from peaktrade.policy.verify import verify_doc

    root = _common.root()
    record = verify_doc(root, load_request(root, request_id))
    if as_json:
        _common.print_json({"valid": True, **record.to_dict()})
        return
    print(f"VALID: {request_id} ({record.decision}) signed by "
          + ", ".join(f"{s.name} [{', '.join(s.roles)}] {s.fingerprint}" for s in record.signers))


@approvals_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List approval requests, newest first (status from the file; `verify` checks signatures)."""
    from peaktrade.cli import _common
    from peaktrade.clock import SYSTEM_CLOCK
    from peaktrade.policy import approvals

    rows = [approvals.summary(d, SYSTEM_CLOCK.now()) for d in approvals.list_requests(_common.root())]
    if as_json:
        _common.print_json(rows)
        return
    if not rows:
        print("No approval requests.")
    for r in rows:
        print(f"{r['id']}  {r['decision']}  {r['status']}  requester {r['requester']}  "
              f"signed by {', '.join(r['signed_by']) or 'nobody'}  expires {r['expires_at']}\n    {r['subject']}")
