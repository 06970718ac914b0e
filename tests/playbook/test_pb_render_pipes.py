"""The checklist header table stays a table when a param value or the operator holds a '|'."""

from __future__ import annotations

from pb_helpers import cli, write_playbook


def test_pipes_in_params_and_operator_are_escaped_in_the_checklist(root, capsys):
    write_playbook(root, "piped", """
        params:
          who: {type: string, default: x}
        steps:
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: "{{ params.who }}"}}
        """)
    assert cli(root, "play", "piped", "-p", "who=a | b", "--operator", "eve|mallory") == 0
    capsys.readouterr()
    (checklist,) = root.checklists_dir.glob("*_piped_*.md")
    lines = checklist.read_text().splitlines()
    assert "| Params | `who=a \\| b`  |" in lines
    assert "| Operator | eve\\|mallory |" in lines
