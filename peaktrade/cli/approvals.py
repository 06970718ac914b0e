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
            base: str = typer.Option(None, "--base", help="risk_limit_change: the git ref of the policies before "
                                     "the change (the working tree holds them after); the change is signed."),
            requester: str = typer.Option(None, "--requester", help="Who asks (default: $PEAKTRADE_OPERATOR); "
                                          "a name of policies/roles.yaml."),
            key: str = typer.Option(None, "--key", envvar="PEAKTRADE_KEY",
                                    help="The requester's private SSH key (default: ssh-agent); signs the request."),
            expires_in: str = typer.Option("4h", "--expires-in", help="e.g. 30m, 4h, 2d"),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Create a request bound to one playbook run, the engaged kill switch, or a stage promotion, signed by you."""
    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.policy import approvals

    if sum([playbook is not None, kill_switch, stage_to is not None]) != 1:
        raise UsageError("say what the approval is for: exactly one of --playbook, --kill-switch, --stage-to")
    if param and playbook is None:
        raise UsageError("-p only applies to --playbook requests")
    if base is not None and decision != "risk_limit_change":
        raise UsageError("--base only applies to risk_limit_change requests")
    root = _common.root()
    subject = _subject(root, playbook, param, kill_switch, stage_to)
    change = approvals.policy_change(root, base or "HEAD") if decision == "risk_limit_change" else None
    doc = approvals.create_request(root, decision, subject, requester=approvals.default_person(requester),
                                   expires_in=approvals.parse_duration(expires_in), requester_key=key,
                                   policy_change=change)
    req = doc["request"]
    if as_json:
        _common.print_json(req)
        return
    print(f"Created approval request {req['id']} for {decision}: {approvals.describe_subject(req['subject'])}")
    print(f"  requester {req['requester']} (signed, key {doc['requester_signature']['fingerprint']}), "
          f"desk stage {req['desk_stage']}, expires {req['expires_at']}")
    for c in (change or {}).get("changes", []):
        print(f"  change: {c['path']} in {c['file']}: {c['old']} -> {c['new']} ({c['direction']})")
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
    from peaktrade.policy.promote import promotion_subject

    return promotion_subject(root, stage_to)


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
           play_params: list[str] = typer.Option([], "--play-params", "-p", metavar="K=V",
                                                 help="Playbook requests: the params the play will run with "
                                                 "(default: the signed ones)."),
           operator: str = typer.Option(None, "--operator", help="Who will run the play (default: "
                                        "$PEAKTRADE_OPERATOR); an operator cannot be a signer."),
           play_id: str = typer.Option(None, "--play-id", help="Check as this play (a resume) would."),
           change_only: bool = typer.Option(False, "--change-only", help="CI, risk_limit_change: only the "
                                            "signatures and that the working tree is the signed change (no desk "
                                            "state, stage or exchange there)."),
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Run the very check a play runs, without binding. Exit 0 valid, 3 refused (every reason listed)."""
    from peaktrade.cli import _common
    from peaktrade.errors import BlockedError
    from peaktrade.policy.approvals import default_person, describe_subject, load_request
    from peaktrade.policy.verify import check
    from peaktrade.policy.verifyview import check_change, current_subject, verify_frame

    root = _common.root()
    doc = load_request(root, request_id)
    frame = verify_frame(root, doc, play_params)
    who = default_person(operator)
    try:
        if change_only:
            record = check_change(root, doc, operator=who)
        else:
            record = check(root, doc, frame=frame, subject=None if frame else current_subject(root, doc),
                           token=play_id, operator=who)
    except BlockedError as exc:
        if as_json:
            _common.print_json({"valid": False, "id": request_id, "reasons": exc.details or [exc.message]})
            raise typer.Exit(3) from None
        print(f"REFUSED: {request_id} ({doc['request']['decision']}) for {describe_subject(doc['request']['subject'])}"
              f", operator {who}:")
        for reason in exc.details or [exc.message]:
            print(f"  - {reason}")
        raise typer.Exit(3) from None
    if as_json:
        _common.print_json({"valid": True, **record.to_dict()})
        return
    print(f"VALID: {request_id} ({record.decision}) for {describe_subject(record.subject)}, operator {who}; "
          f"requested by {record.requester}; signed by "
          + ", ".join(f"{s.name} [{', '.join(s.roles)}] {s.fingerprint}" for s in record.signers))
    print("  the same check a play runs: subject, policies, exchange configuration, desk stage, use, signatures")


@approvals_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List approval requests, newest first: complete / pending / used / expired / void (the play's own check)."""
    from peaktrade.cli import _common
    from peaktrade.policy import approvals
    from peaktrade.policy.verifyview import status_row

    root = _common.root()
    rows = [status_row(root, d) for d in approvals.list_requests(root)]
    if as_json:
        _common.print_json(rows)
        return
    if not rows:
        print("No approval requests.")
    for r in rows:
        why = f" ({r['reason']})" if r["reason"] and r["status"] in ("void", "pending") else ""
        print(f"{r['id']}  {r['decision']}  {r['status']}{why}  requester {r['requester']}  "
              f"signed by {', '.join(r['signed_by']) or 'nobody'}  expires {r['expires_at']}\n    {r['subject']}")
