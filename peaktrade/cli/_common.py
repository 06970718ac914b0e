"""What every command module shares: the resolved root, JSON output, error printing."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from peaktrade.errors import PeakTradeError
    from peaktrade.root import Root


@dataclass
class _State:
    root_arg: str | None = None


STATE = _State()


def root() -> Root:
    """The deployment root for this invocation (``--root``, ``PEAKTRADE_ROOT``, or the cwd)."""
    from peaktrade.root import Root

    return Root.resolve(STATE.root_arg)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_error(exc: PeakTradeError) -> None:
    from peaktrade.redact import redact_text

    print(f"peaktrade: {redact_text(exc.message)}", file=sys.stderr)
    for line in exc.details:
        print(f"  {redact_text(line)}", file=sys.stderr)
