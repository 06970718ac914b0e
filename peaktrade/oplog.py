"""logs/operations.log: one redacted, fsynced line per operational act (DESIGN 2, 4).

The line format is stable so operators can grep it:
``<ISO time> operator=<op> playbook/what=<..> play=<id> outcome=<..> reason=<..>``.
Values with whitespace are double-quoted so every line still splits into key=value fields.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.fsutil import append_line
from peaktrade.redact import redact_text

if TYPE_CHECKING:
    from peaktrade.root import Root

_PLAIN = re.compile(r"^[^\s\"=]+$")


def _field(value: str | None) -> str:
    if value is None or value == "":
        return "-"
    value = redact_text(str(value)).replace("\n", " ").replace("\r", " ")
    if _PLAIN.match(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def append_operation(
    root: Root,
    *,
    operator: str,
    what: str,
    play_id: str | None = None,
    outcome: str,
    reason: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """Append one line to logs/operations.log (fsynced) and return it."""
    line = (
        f"{utc_iso(clock.now())} operator={_field(operator)} playbook/what={_field(what)} "
        f"play={_field(play_id)} outcome={_field(outcome)} reason={_field(reason)}"
    )
    append_line(root.operations_log, line)
    return line
