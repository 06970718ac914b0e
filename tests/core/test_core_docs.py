"""Generated docs stay true: the CLI reference and the per-playbook guides match the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cli_reference_is_up_to_date():
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-m", "peaktrade.cli._reference"], capture_output=True, text=True,
                         check=True, env=env, cwd=REPO).stdout
    committed = (REPO / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert out == committed, "regenerate: COLUMNS=100 python -m peaktrade.cli._reference > docs/cli-reference.md"


def test_playbook_guides_are_up_to_date(tmp_path: Path):
    from peaktrade.playbook.guide import write_guides
    from peaktrade.root import Root

    write_guides(Root(REPO), tmp_path)
    committed = REPO / "docs" / "playbooks"
    fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.md")}
    have = {p.name: p.read_text(encoding="utf-8") for p in committed.glob("*.md")}
    assert fresh == have, "regenerate: python -m peaktrade.playbook.guide"


def test_every_shipped_playbook_has_a_guide_with_every_step():
    from peaktrade.playbook.model import load_playbook, playbook_names
    from peaktrade.root import Root

    for name in playbook_names(Root(REPO)):
        text = (REPO / "docs" / "playbooks" / f"{name}.md").read_text(encoding="utf-8")
        for step in load_playbook(Root(REPO), name).steps:
            assert f"`{step.id}`: {step.title}" in text, (name, step.id)
