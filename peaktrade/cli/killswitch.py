"""`peaktrade kill-switch status|engage|release` (DESIGN 5): released -> engaged -> recovering -> released.

Shown to people as released / engaged / recovering; ``--json`` carries both ``state`` (ACTIVE, KILLED,
RECOVERING) and ``word``."""

from __future__ import annotations

import typer

ks_app = typer.Typer(help="The kill switch: engage (anyone), release (approved, then a cooldown).",
                     no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ks_app, name="kill-switch")


def _print(status, as_json: bool) -> None:
    from peaktrade.cli import _common

    if as_json:
        _common.print_json(status.to_dict())
        return
    line = f"Kill switch: {status.word}"
    if status.state != "ACTIVE" or status.reason:
        # an unreadable state file has no since/by: say only what is known; a reason stays on one line
        who = ", ".join(p for p in (f"since {status.since}" if status.since else "",
                                    f"by {status.by}" if status.by else "") if p)
        reason = " ".join(str(status.reason or "").split())
        line += f" ({who}: {reason})" if who else f" ({reason})"
    if status.state == "RECOVERING":
        line += f"; new orders stay blocked until {status.recovering_until}"
    print(line)


@ks_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show the kill switch's state. While KILLED or RECOVERING every session blocks new orders."""
    from peaktrade.cli import _common
    from peaktrade.policy.killswitch import KillSwitch

    _print(KillSwitch(_common.root()).status(), as_json)


@ks_app.command("engage")
def engage(reason: str = typer.Option(..., "--reason", help="Why (journaled in var/ and logs/operations.log)."),
           operator: str = typer.Option(None, "--operator", help="Who (default: $PEAKTRADE_OPERATOR)."),
           as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Engage the kill switch now: every session blocks new orders until an approved release."""
    from peaktrade.cli import _common
    from peaktrade.policy.approvals import default_person
    from peaktrade.policy.killswitch import KillSwitch

    _print(KillSwitch(_common.root()).engage(reason, default_person(operator)), as_json)


@ks_app.command("release")
def release(request_id: str = typer.Option(None, "--request", help="The signed kill_switch_release request "
                                           "(default: the newest one for this engagement)."),
            operator: str = typer.Option(None, "--operator", help="Who (default: $PEAKTRADE_OPERATOR)."),
            key: str = typer.Option(None, "--key", help="The operator's private SSH key (default: ssh-agent); the "
                                    "operator proves who they are."),
            as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Release with a verified kill_switch_release approval: RECOVERING for the cooldown, then ACTIVE.
    The operator proves who they are with their key (listed in policies/roles.yaml)."""
    from peaktrade.cli import _common
    from peaktrade.errors import BlockedError, UsageError
    from peaktrade.policy.approvals import default_person, list_requests, verify_request
    from peaktrade.policy.killswitch import DECISION, KillSwitch

    root = _common.root()
    ks = KillSwitch(root)
    current = ks.status()
    if current.state != "KILLED":
        raise UsageError(f"kill switch is {current.word}, not engaged: nothing to release")
    subject = {"kind": "kill_switch", "engaged_since": current.engaged_since}
    if request_id is None:
        found = [d for d in list_requests(root)
                 if d["request"]["decision"] == DECISION and d["request"]["subject"] == subject]
        if not found:
            raise BlockedError(
                f"release needs a {DECISION} approval for the engagement of {current.engaged_since}",
                details=["peaktrade approvals request --decision kill_switch_release --kill-switch",
                         "then two people: peaktrade approvals sign REQUEST_ID --as NAME --key KEY"])
        request_id = found[0]["request"]["id"]
    who = default_person(operator)
    from peaktrade.hashing import canonical_json
    from peaktrade.policy.identity import prove

    # who releases binds an approval: a name is not enough, the operator signs with their key (DESIGN 7)
    prove(root, who, canonical_json({"purpose": "kill-switch release", "engagement": current.engagement,
                                     "engaged_since": current.engaged_since, "operator": who}).encode("utf-8"),
          key, what="operator")
    record = verify_request(root, request_id, decision=DECISION, subject=subject,
                            token=f"kill-switch-release@{current.engaged_since}", requester=who)
    _print(ks.release(who, record), as_json)
