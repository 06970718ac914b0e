"""What a running play carries: the context shared by every step, and one frame per (sub-)playbook."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from peaktrade.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from peaktrade.desk.store import PlayRow
    from peaktrade.playbook.journal import Journal
    from peaktrade.playbook.model import Playbook
    from peaktrade.root import Root


class Prompter:
    """The operator's terminal. Not interactive (no tty) means: never wait for an answer."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None):
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def interactive(self) -> bool:
        try:
            return bool(self.stdin and self.stdin.isatty())
        except (ValueError, OSError):
            return False

    def ask(self, prompt: str) -> str | None:
        """One line from the operator, stripped; None at end of input."""
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            return None
        return line.strip()


@dataclass
class Frame:
    """One (sub-)playbook being executed: its params and the state of its steps for ``when:``."""

    playbook: Playbook
    params: dict[str, Any]
    path: str = ""  # "" for the top level, "<step id>" (nested "a/b") for sub-runs
    depth: int = 0
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)

    def step_key(self, step_id: str) -> str:
        return f"{self.path}/{step_id}" if self.path else step_id


@dataclass
class PlayContext:
    root: Root
    operator: str
    play_id: str
    journal: Journal
    top: Playbook
    policies_hash: str
    config: dict[str, Any]
    mode: str
    clock: Clock = SYSTEM_CLOCK
    dry_run: bool = False
    assume_yes: bool = False
    answers: dict[str, str] = field(default_factory=dict)
    prompter: Prompter = field(default_factory=Prompter)
    echo: Callable[[str], None] = print
    # approvals verified and bound, per frame: frame path -> {decision: record} (never shared across frames)
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)
    # approvals found valid but not bound (dry run, or guards still being evaluated): frame path -> {decision: record}
    dry_approvals: dict[str, dict[str, Any]] = field(default_factory=dict)
    operator_key: str | None = None  # --key: the operator's private key (or .pub with ssh-agent); None: ssh-agent
    identity: dict[str, Any] | None = None  # set once the operator proved who they are (name, fingerprint)
    # --resume: frame path -> step id -> the last step_finished record of the earlier attempt
    prior: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # --resume: frame path -> ids of steps that started and never finished (a crash mid-step)
    interrupted: dict[str, set[str]] = field(default_factory=dict)
    # the play's inputs as they were at its start: relative path -> sha256 (config and policies). Every act
    # step re-checks them, so a limit loosened while a prompt waited never reaches an order.
    pinned: dict[str, str] = field(default_factory=dict)
    # the play's row in the desk state as last written (its record count and head move with every step)
    desk_row: PlayRow | None = None
    _noted: set[str] = field(default_factory=set)

    def note_once(self, key: str, message: str) -> None:
        """Journal a degraded-mode notice once per play (e.g. a policy module not installed yet)."""
        if key not in self._noted:
            self._noted.add(key)
            self.journal.append("notice", topic=key, message=message)
