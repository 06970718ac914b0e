"""The kill switch (DESIGN 5), kept in the desk state: ACTIVE -> KILLED -> RECOVERING -> ACTIVE.

``read_kill_switch`` is the one read every caller uses (guards, gateway, readiness, smoke, CLI, web).
Anything it cannot read — no store, a deleted row, an unknown state, a broken file — reads as engaged.

* ``engage`` (anyone, reason required): KILLED at once, from any state, one atomic update that also
  counts the engagement. An engage always wins over a release that raced it.
* ``release`` needs a verified ``kill_switch_release`` approval bound to *this* engagement; the update
  applies only while that engagement is still the current one, so it never overwrites a newer engage.
* RECOVERING reads as ACTIVE once ``release_cooldown_minutes`` (policies/stages.yaml) have passed.

To people the states are *released*, *engaged* and *recovering*.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.desk import open_desk
from peaktrade.desk.store import KS_WORDS, DeskUnavailable, KillSwitchRow
from peaktrade.errors import BlockedError, PeakTradeError, UsageError
from peaktrade.oplog import append_operation
from peaktrade.root import Root

STATES = ("ACTIVE", "KILLED", "RECOVERING")
DECISION = "kill_switch_release"


@dataclass(frozen=True)
class KillSwitchStatus:
    state: str  # ACTIVE | KILLED | RECOVERING (what the code compares)
    reason: str | None = None
    since: str | None = None
    by: str | None = None
    recovering_until: str | None = None
    engaged_since: str | None = None  # the engagement a release approval must be bound to
    engagement: int = 0
    readable: bool = True  # False: the state could not be read and reads engaged (fail closed)

    @property
    def word(self) -> str:
        """released | engaged | recovering: what people are shown."""
        return KS_WORDS.get(self.state, "engaged")

    @property
    def blocks_orders(self) -> bool:
        return self.state != "ACTIVE"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "word": self.word}


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def status_of(row: KillSwitchRow, clock: Clock) -> KillSwitchStatus:
    """The switch as a stored row reads now (a recovery whose cooldown has passed reads released)."""
    if row.state == "RECOVERING" and row.recovering_until:
        try:
            over = clock.now() >= _parse(row.recovering_until)
        except ValueError:
            over = False  # an unreadable end keeps it recovering: blocked
        if over:
            return KillSwitchStatus("ACTIVE", row.reason, row.recovering_until, row.by, None, row.engaged_since,
                                    row.engagement)
    return KillSwitchStatus(row.state, row.reason, row.since, row.by, row.recovering_until, row.engaged_since,
                            row.engagement)


def read_kill_switch(root: Root, clock: Clock = SYSTEM_CLOCK) -> KillSwitchStatus:
    """The kill switch as every order path must see it; never raises, never answers ACTIVE by default."""
    try:
        return status_of(open_desk(root).kill_switch(), clock)
    except PeakTradeError as exc:
        return KillSwitchStatus("KILLED", f"desk state unreadable, failing closed: {exc.message}", readable=False)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the answer is "blocked"
        return KillSwitchStatus("KILLED", f"kill switch unreadable, failing closed: {type(exc).__name__}: {exc}",
                                readable=False)


def engage(root: Root, reason: str, operator: str, clock: Clock = SYSTEM_CLOCK) -> KillSwitchStatus:
    if not reason or not reason.strip():
        raise UsageError("kill-switch engage needs a reason (--reason)")
    reason = reason.strip()
    try:
        store = open_desk(root)
        now = utc_iso(clock.now())  # stamped once the store is open: `since` is the moment of the write
        row = store.engage(reason=reason, by=operator, at=now)
    except DeskUnavailable as exc:
        append_operation(root, operator=operator, what="kill-switch engage", outcome="engaged (state unreadable)",
                         reason=reason, clock=clock)
        raise PeakTradeError(f"the kill switch could not be written ({exc.message}); every order path already "
                             "blocks while the desk state is unreadable", details=exc.details) from None
    append_operation(root, operator=operator, what="kill-switch engage", outcome="engaged", reason=reason, clock=clock)
    return status_of(row, clock)


def release(root: Root, operator: str, approval: Any, clock: Clock = SYSTEM_CLOCK) -> KillSwitchStatus:
    """KILLED -> RECOVERING with a verified approval bound to the current engagement (atomic)."""
    from peaktrade.policy.records import lookup
    from peaktrade.policy.stages import load_stage_policy

    current = read_kill_switch(root, clock)
    if not current.readable:
        raise BlockedError(f"the kill switch cannot be released: {current.reason}")
    if current.state != "KILLED":
        raise UsageError(f"kill switch is {current.word}, not engaged: nothing to release")
    approval = lookup(approval)
    if approval is None or approval.decision != DECISION:
        raise BlockedError(f"kill-switch release needs a verified {DECISION} approval")
    bound = approval.subject.get("engaged_since")
    if approval.subject.get("kind") != "kill_switch" or bound != current.engaged_since:
        raise BlockedError(f"approval {approval.request_id} is for the engagement of {bound}, "
                           f"not the current one of {current.engaged_since}")
    cooldown = load_stage_policy(root).release_cooldown_minutes
    now = clock.now()
    row = open_desk(root).release(engagement=current.engagement, by=operator, at=utc_iso(now),
                                  until=utc_iso(now + timedelta(minutes=cooldown)), request_id=approval.request_id)
    if row is None:
        raise BlockedError(f"the kill switch was engaged again while approval {approval.request_id} was checked; "
                           "that approval was for the earlier engagement: it stays engaged")
    append_operation(root, operator=operator, what="kill-switch release", outcome="recovering",
                     reason=f"approval {approval.request_id}", clock=clock)
    return status_of(row, clock)


class KillSwitch:
    """Object form of the functions above (the CLI, actions and older callers use it)."""

    def __init__(self, root: Root, clock: Clock = SYSTEM_CLOCK):
        self.root, self.clock = root, clock

    def status(self) -> KillSwitchStatus:
        return read_kill_switch(self.root, self.clock)

    def engage(self, reason: str, operator: str) -> KillSwitchStatus:
        return engage(self.root, reason, operator, self.clock)

    def release(self, operator: str, approval: Any) -> KillSwitchStatus:
        return release(self.root, operator, approval, self.clock)
