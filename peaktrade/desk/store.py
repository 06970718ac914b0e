"""The desk state interface (DESIGN 11): what every process of the desk must agree on.

One store holds the run registry, the kill switch, the desk risk ledger per account, order intents,
approval use, alert state and the play index. ``DeskStore`` is the interface; the embedded default is
``peaktrade.desk.sqlite.SqliteDesk`` (``var/desk.sqlite``); a PostgreSQL backend implements the same
methods. Callers only ever use these methods, never SQL.

Every transition that must be atomic is one method here (engage, release, reserve, bind approval), so a
backend can make it one transaction or one conditional statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from peaktrade.errors import PeakTradeError

SCHEMA_VERSION = 2

RUN_ACTIVE = ("starting", "running", "stopping")
RUN_FINAL = ("completed", "stopped", "killed", "crashed", "failed", "lost")

KS_STATES = ("ACTIVE", "KILLED", "RECOVERING")
KS_WORDS = {"ACTIVE": "released", "KILLED": "engaged", "RECOVERING": "recovering"}

# an intent is open (its unfilled quantity still counts against the limits) until it is final
INTENT_OPEN = ("reserved", "submitted", "open", "unknown")
INTENT_FINAL = ("filled", "canceled", "rejected", "expired", "not_placed")


class DeskUnavailable(PeakTradeError):
    """The desk state cannot be opened, read or written (exit 1). Every guard reading it fails closed."""


@dataclass
class RunRecord:
    run_id: str
    mode: str
    strategy: str
    symbol: str
    timeframe: str
    profile: str
    status: str = "starting"
    pid: int | None = None
    pid_start: int | None = None
    created_at: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    notes: str = ""
    operator: str = ""
    status_note: str = ""  # why it is in this state (e.g. "killed after 30 s", "process gone")
    play_id: str = ""  # the play that started it ("" from the CLI)
    step_key: str = ""  # the step of that play, so a resume finds the run instead of starting another
    account: str = ""  # where its orders land (paper | testnet | live)
    approval_id: str = ""  # live runs: the live_activation request its play bound
    host: str = ""

    @property
    def active(self) -> bool:
        return self.status in RUN_ACTIVE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RUN_COLUMNS = tuple(RunRecord.__dataclass_fields__)


@dataclass(frozen=True)
class KillSwitchRow:
    """The stored kill switch. ``engagement`` counts engagements: a release names the one it was approved for."""

    state: str
    reason: str | None = None
    since: str | None = None
    by: str | None = None
    engagement: int = 0
    engaged_since: str | None = None
    recovering_until: str | None = None
    request_id: str | None = None


@dataclass
class Position:
    symbol: str
    quantity: float = 0.0
    avg_price: float = 0.0
    mark: float | None = None


@dataclass
class Ledger:
    """One account's book as the desk knows it: cash, positions, marks, the trading day and its start."""

    account: str
    cash: float
    realized_pnl: float = 0.0
    fees: float = 0.0
    day: str | None = None
    day_start_equity: float | None = None
    halted_day: str | None = None  # the trading day on which the daily loss limit halted this account
    halted_reason: str | None = None
    positions: dict[str, Position] = field(default_factory=dict)
    version: int = 0

    def equity(self, marks: dict[str, float] | None = None) -> float:
        total = self.cash
        for sym, pos in self.positions.items():
            mark = (marks or {}).get(sym, pos.mark if pos.mark is not None else pos.avg_price)
            total += pos.quantity * mark
        return total


@dataclass
class Intent:
    client_order_id: str
    account: str
    symbol: str
    side: str
    quantity: float
    price: float | None
    order_type: str
    origin: str  # run id or play id
    step_key: str
    status: str = "reserved"
    filled: float = 0.0
    avg_price: float | None = None
    fee: float = 0.0
    exchange_order_id: str | None = None
    reason: str = ""
    created_at: str = ""
    updated_at: str = ""

    @property
    def remaining(self) -> float:
        return max(self.quantity - self.filled, 0.0)

    @property
    def signed_remaining(self) -> float:
        return self.remaining if self.side == "buy" else -self.remaining

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


INTENT_COLUMNS = tuple(Intent.__dataclass_fields__)


@dataclass
class AlertRow:
    key: str  # rule|run_id
    rule: str
    run_id: str
    severity: str
    status: str  # firing | resolved
    message: str
    playbook: str
    first_fired: str
    last_notified: str | None
    resolved_at: str | None = None
    notifications: int = 0


@dataclass
class PlayRow:
    play_id: str
    playbook: str
    operator: str
    started_at: str
    outcome: str | None = None
    finished_at: str | None = None
    head: str | None = None  # the journal's head hash when the play ended
    records: int = 0


@dataclass
class AgentRow:
    """One host's agent (``peaktrade agent --host-id H``) as the desk last heard from it."""

    host_id: str
    pid: int | None
    started_at: str
    heartbeat_at: str
    status: str  # up | stopped | lost
    note: str = ""
    age_s: float | None = None  # seconds since the heartbeat, by the store's clock (hosts' clocks may differ)


@dataclass
class ArtifactRow:
    """A closed run log or journal copied to object storage, with the hash it had when it was copied."""

    owner: str  # run id or play id
    kind: str  # run_log | journal
    name: str  # the file's path under its run or play folder
    url: str  # s3://bucket/prefix/...
    sha256: str
    size: int
    host: str
    uploaded_at: str


def fill_of_intent(total: float, filled: float, avg: float | None, quantity: float, price: float,
                   status: str | None) -> tuple[float, float, str]:
    """An intent after a fill of ``quantity`` at ``price``: (filled, average price, status)."""
    new_filled = filled + quantity
    new_avg = ((avg or 0.0) * filled + price * quantity) / new_filled if new_filled > 0 else price
    return new_filled, new_avg, status or ("filled" if new_filled >= total - 1e-12 else "open")


def book_position(qty: float, avg: float, delta: float, price: float) -> tuple[float, float, float]:
    """A position after a signed fill ``delta`` at ``price``: (quantity, average entry, realized PnL)."""
    realized = 0.0
    if qty and (qty > 0) != (delta > 0):  # reducing: realise PnL on the closed part
        closed = min(abs(delta), abs(qty))
        realized = closed * (price - avg) * (1 if qty > 0 else -1)
    new_qty = qty + delta
    if abs(new_qty) < 1e-12:
        return 0.0, 0.0, realized
    if qty == 0 or (qty > 0) != (new_qty > 0):
        return new_qty, price, realized
    if (qty > 0) == (delta > 0):
        return new_qty, (avg * abs(qty) + price * abs(delta)) / abs(new_qty), realized
    return new_qty, avg, realized


class DeskStore(Protocol):
    """The one interface to the desk state. Implementations: SqliteDesk (embedded), a PostgreSQL backend."""

    backend: str

    def schema_version(self) -> int: ...

    # -- runs (the registry) --------------------------------------------------------------------
    def add_run(self, record: RunRecord) -> None: ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def list_runs(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]: ...

    def update_run(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool: ...

    def find_run(self, *, play_id: str, step_key: str) -> RunRecord | None: ...

    # -- kill switch ----------------------------------------------------------------------------
    def kill_switch(self) -> KillSwitchRow:
        """The stored row; raise DeskUnavailable when it cannot be read (callers fail closed)."""
        ...

    def engage(self, *, reason: str, by: str, at: str) -> KillSwitchRow: ...

    def release(self, *, engagement: int, by: str, at: str, until: str, request_id: str) -> KillSwitchRow | None:
        """KILLED -> RECOVERING only if ``engagement`` is still the current one; None otherwise."""
        ...

    def settle_recovery(self, *, now: str) -> None:
        """RECOVERING -> ACTIVE once ``recovering_until`` has passed (one conditional update)."""
        ...

    # -- ledger and intents ---------------------------------------------------------------------
    def ledger(self, account: str) -> Ledger | None: ...

    def ensure_account(self, account: str, *, cash: float) -> Ledger: ...

    def change_marker(self) -> int:
        """A number that changes whenever another connection committed (cheap cache check)."""
        ...

    def reserve(self, intent: Intent, decide: Any) -> tuple[bool, Any]:
        """Atomically: read the ledger and open intents, call ``decide(ledger, open_intents)`` -> (ok, info),
        and insert ``intent`` only when ok, on exactly the ledger and intents ``decide`` saw. Two concurrent
        reservations serialise. ``decide`` may be called more than once (PostgreSQL: a compare-and-set that
        lost a race decides again on a fresh read); only the last call's result counts."""
        ...

    def get_intent(self, client_order_id: str) -> Intent | None: ...

    def open_intents(self, account: str | None = None) -> list[Intent]: ...

    def update_intent(self, client_order_id: str, **changes: Any) -> None: ...

    def apply_fill(self, client_order_id: str, *, quantity: float, price: float, fee: float, at: str,
                   status: str | None = None, exchange_order_id: str | None = None) -> None:
        """Book a fill of an intent into its account's ledger and the intent, in one transaction."""
        ...

    def set_day(self, account: str, *, day: str, day_start_equity: float) -> None: ...

    def halt_day(self, account: str, *, day: str, reason: str) -> None: ...

    def set_marks(self, account: str, marks: dict[str, float]) -> None:
        """The symbols' mark prices in the account's ledger (a symbol without a row gets one holding nothing)."""
        ...

    def sync_account(self, account: str, *, cash: float, positions: dict[str, float],
                     marks: dict[str, float]) -> None:
        """Set the account's cash and the named symbols' positions to what the exchange reports."""
        ...

    # -- approvals, alerts, plays ---------------------------------------------------------------
    def bind_approval(self, request_id: str, *, by: str, at: str) -> str:
        """Record the one use of a request; returns who holds it (``by`` if this call bound it)."""
        ...

    def approval_use(self, request_id: str) -> dict[str, Any] | None: ...

    def alert(self, key: str) -> AlertRow | None: ...

    def put_alert(self, row: AlertRow) -> None: ...

    def list_alerts(self, *, status: str | None = None, limit: int = 100) -> list[AlertRow]: ...

    def record_play(self, row: PlayRow) -> None: ...

    def get_play(self, play_id: str) -> PlayRow | None: ...

    def list_plays(self, *, limit: int = 100) -> list[PlayRow]: ...

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    # -- a desk on several hosts: agents, claims, artifacts (DESIGN 11) ------------------------------
    def queue_run(self, run_id: str, *, host: str) -> bool:
        """Hand a run still ``starting`` to the agents (``host``: pinned to that host; "" = any host)."""
        ...

    def claim_runs(self, host: str, *, limit: int, at: str) -> list[RunRecord]:
        """Claim queued runs pinned to ``host`` or unpinned; each run is claimed by exactly one agent."""
        ...

    def agent_lease(self, host: str) -> Any:
        """The per-host agent lock: a handle (``close()`` releases it), or None when another agent holds it."""
        ...

    def heartbeat(self, host: str, *, pid: int, at: str, note: str = "") -> str:
        """Record that ``host``'s agent is alive; returns its status before (``lost``: it was declared lost)."""
        ...

    def agent_down(self, host: str, *, at: str) -> None: ...

    def list_agents(self) -> list[AgentRow]: ...

    def expire_agents(self, *, lost_after_s: float, at: str) -> list[RunRecord]:
        """Agents silent for ``lost_after_s`` become lost, and their active runs ``lost`` (returned)."""
        ...

    def record_artifact(self, row: ArtifactRow) -> None: ...

    def list_artifacts(self, owner: str | None = None) -> list[ArtifactRow]: ...
