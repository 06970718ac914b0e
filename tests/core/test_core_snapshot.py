"""The snapshot of a play's settings (peaktrade/snapshot.py): parsed once, immutable, blocked when changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from peaktrade.config import load_config
from peaktrade.errors import BlockedError
from peaktrade.playbook.pins import pin
from peaktrade.policy.files import load_policy
from peaktrade.root import Root
from peaktrade.snapshot import pinned

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path) -> Root:
    for name in ("config", "policies", "schemas"):
        shutil.copytree(REPO / name, tmp_path / name)
    return Root(tmp_path)


def test_within_a_play_each_load_is_a_copy_of_the_one_parse(root):
    with pinned(root, pin(root)):
        first = load_policy(root, "risk-limits")
        first["stages"]["live"]["max_order_notional"] = 1e9  # a caller that edits what it got
        again = load_policy(root, "risk-limits")
        assert again["stages"]["live"]["max_order_notional"] == 100.0  # the snapshot is not changed by it
        config = load_config(root)
        config.data["environment"]["mode"] = "live"
        assert load_config(root).mode != "live"
    # outside the play each load reads the file again
    path = root.policy_file("risk-limits")
    path.write_text(path.read_text().replace("max_order_notional: 100.0", "max_order_notional: 90.0"))
    assert load_policy(root, "risk-limits")["stages"]["live"]["max_order_notional"] == 90.0


def test_a_file_changed_since_the_pin_is_blocked_on_its_first_read(root):
    hashes = pin(root)
    path = root.config_file
    path.write_text(path.read_text() + "\n# edited while the play ran\n")
    with pinned(root, hashes), pytest.raises(BlockedError, match="config/config.toml changed since the play started"):
        load_config(root)
    assert load_config(root).data  # no pin: read as it is now
