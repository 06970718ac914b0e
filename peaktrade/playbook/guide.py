"""Operator guides, one per playbook, generated from the playbooks so they cannot drift.

    python -m peaktrade.playbook.guide [OUT_DIR]     # default docs/playbooks

A test compares the committed guides with this output.
"""

from __future__ import annotations

import sys
from pathlib import Path

from peaktrade.root import Root

TEMPLATE = Path(__file__).parent / "templates" / "guide.md.j2"


def render_guide(root: Root, name: str) -> str:
    from peaktrade.playbook.model import load_playbook
    from peaktrade.templating import render_template_file

    pb = load_playbook(root, name)
    decides = [{"id": s.id, "options": list(s.body["options"])} for s in pb.steps if s.kind == "decide"]
    acts = sum(s.effect == "act" for s in pb.steps)
    text = render_template_file(TEMPLATE, {"pb": pb, "decides": decides, "acts": acts})
    # collapse the blank lines that template control blocks leave behind
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() == "" and lines and lines[-1].strip() == "":
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def render_index(root: Root) -> str:
    from peaktrade.playbook.model import load_playbook, playbook_names

    rows = ["# Operator guides, one per playbook\n",
            "Generated from `playbooks/*.yaml` by `python -m peaktrade.playbook.guide`.\n",
            "| playbook | runbook | stage | title |", "|---|---|---|---|"]
    for name in playbook_names(root):
        pb = load_playbook(root, name)
        rows.append(f"| [`{name}`]({name}.md) | {pb.runbook} | {pb.stage} | {pb.title} |")
    return "\n".join(rows) + "\n"


def write_guides(root: Root, out: Path) -> list[Path]:
    from peaktrade.playbook.model import playbook_names

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in playbook_names(root):
        path = out / f"{name}.md"
        path.write_text(render_guide(root, name), encoding="utf-8")
        written.append(path)
    (out / "README.md").write_text(render_index(root), encoding="utf-8")
    return written


if __name__ == "__main__":
    repo = Path(__file__).resolve().parents[2]
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else repo / "docs" / "playbooks"
    for p in write_guides(Root(repo), target):
        print(p)
