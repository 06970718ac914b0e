"""Issue 11, item 3: every option of every shipped decide step runs steps or says it is advice only."""

from __future__ import annotations

import re

import pytest
from pb_helpers import REPO

from peaktrade.loader import load_yaml

PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yaml"))


def _decides(path):
    steps = load_yaml(path).data["steps"]
    for i, step in enumerate(steps):
        if "decide" in step:
            yield step["id"], step["decide"]["options"], steps[i + 1:]


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.stem)
def test_every_option_acts_or_is_advice_only(path):
    for step_id, options, later in _decides(path):
        conditions = " ".join(str(s.get("when", "")) for s in later)
        ref = rf"steps(\.{re.escape(step_id)}|\['{re.escape(step_id)}'\])\.answer == '(\w+)'"
        acted = {m.group(2) for m in re.finditer(ref, conditions)}
        for option, text in options.items():
            assert option in acted or "advice only" in text, \
                f"{path.name}: decide {step_id!r} option {option!r} runs no step and is not marked advice only"
