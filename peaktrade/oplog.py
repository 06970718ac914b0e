"""logs/operations.log: one redacted, fsynced line per operational act (DESIGN 2, 4).

This module is the one writer of that file. The line format is stable so operators can grep it:
``<ISO time> operator=<op> playbook/what=<..> play=<id> outcome=<..> reason=<..>``.
Values with whitespace are double-quoted so every line still splits into key=value fields.

One act is always one line: every field has its control characters folded (newline, carriage
return, tab, the other C0 and C1 controls, U+2028/U+2029 line and paragraph separators, and the
other characters ``str.splitlines`` breaks on) into visible ``\\n``-style escapes, so a reason like
``"x\\n2026-01-01T00:00:00Z kill-switch released by alice"`` cannot forge a second line. The line is
appended whole or not at all (``fsutil.append_line``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.fsutil import append_line
from peaktrade.redact import redact_text

if TYPE_CHECKING:
    from peaktrade.root import Root

_PLAIN = re.compile(r"^[^\s\"=\\]+$")
# C0 controls, DEL, C1 controls, and the separators splitlines() also breaks lines on
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085\x1c-\x1e]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MAX_FIELD = 500  # characters of one field: a reason is a sentence, not a file


def fold(text: str) -> str:
    """``text`` on one line: each control character becomes a visible escape (``\\n``, ``\\x1b``, ``\\u2028``)."""
    def esc(m: re.Match[str]) -> str:
        ch = m.group(0)
        return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")

    return _CONTROL.sub(esc, text)


def _field(value: str | None) -> str:
    if value is None or value == "":
        return "-"
    value = redact_text(str(value))
    if len(value) > MAX_FIELD:
        value = f"{value[:MAX_FIELD]}...[{len(value) - MAX_FIELD} more]"
    if _PLAIN.match(value) and not _CONTROL.search(value):
        return value
    # backslashes and quotes first, so that a typed "\n" stays distinguishable from a folded newline
    return '"' + fold(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def operation_line(*, operator: str, what: str, play_id: str | None = None, outcome: str,
                   reason: str | None = None, clock: Clock = SYSTEM_CLOCK, head: str | None = None) -> str:
    return (
        f"{utc_iso(clock.now())} operator={_field(operator)} playbook/what={_field(what)} "
        f"play={_field(play_id)} outcome={_field(outcome)} reason={_field(reason)}"
        + (f" head={_field(head)}" if head else "")  # a play's journal head hash: ties the line to the journal
    )


def append_operation(
    root: Root,
    *,
    operator: str,
    what: str,
    play_id: str | None = None,
    outcome: str,
    reason: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    head: str | None = None,
) -> str:
    """Append one line to logs/operations.log (fsynced, whole or not at all) and return it.

    Callers outside playbooks (the kill switch, ``incident new``) use this too, with ``what``
    naming the act (``kill-switch engage``) and ``play_id`` left out.
    """
    line = operation_line(operator=operator, what=what, play_id=play_id, outcome=outcome, reason=reason,
                          clock=clock, head=head)
    append_line(root.operations_log, line)
    return line
