"""The run registry: which runs exist, their process and their state — a view of the desk state.

The rows live in the desk state (``var/desk.sqlite``, DESIGN 11), next to the kill switch and the
ledger, so every process of the desk (and, with the PostgreSQL backend, every host) sees one list.
``RunRegistry`` is the interface the orchestrator uses; ``open_registry`` gives the desk's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from peaktrade.desk import open_desk
from peaktrade.desk.store import RUN_ACTIVE, RUN_FINAL, DeskStore, DeskUnavailable, RunRecord
from peaktrade.root import Root

ACTIVE = RUN_ACTIVE
FINAL = RUN_FINAL
RegistryUnavailable = DeskUnavailable  # one error for a desk state that cannot be used

__all__ = ["ACTIVE", "FINAL", "RegistryUnavailable", "RunRecord", "RunRegistry", "open_registry"]


class RunRegistry(Protocol):
    def add(self, record: RunRecord) -> None: ...

    def get(self, run_id: str) -> RunRecord | None: ...

    def list(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]: ...

    def update(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool:
        """Apply ``changes``; with ``only_if``, only when the current status is one of those (atomic)."""
        ...

    def find(self, *, play_id: str, step_key: str) -> RunRecord | None: ...


class DeskRegistry:
    def __init__(self, store: DeskStore):
        self.store = store

    def add(self, record: RunRecord) -> None:
        self.store.add_run(record)

    def get(self, run_id: str) -> RunRecord | None:
        return self.store.get_run(run_id)

    def list(self, *, active_only: bool = False, limit: int | None = None) -> list[RunRecord]:
        return self.store.list_runs(active_only=active_only, limit=limit)

    def update(self, run_id: str, *, only_if: Iterable[str] | None = None, **changes: Any) -> bool:
        return self.store.update_run(run_id, only_if=only_if, **changes)

    def find(self, *, play_id: str, step_key: str) -> RunRecord | None:
        return self.store.find_run(play_id=play_id, step_key=step_key)


def open_registry(root: Root) -> RunRegistry:
    """The run registry of a deployment root (its desk state)."""
    return DeskRegistry(open_desk(root))
