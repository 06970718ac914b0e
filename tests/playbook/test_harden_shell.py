"""Issue 10, class 3: shell: true steps are not injectable; validate refuses unsafe shell templates."""

from __future__ import annotations

import json

import pytest
from pb_helpers import cli_proc, finished, journal, write_playbook

from peaktrade.playbook.kinds.run import shell_problem

SHELL_STEP = """
    params:
      x: {type: string, default: hello}
    steps:
      - id: echo
        title: Echo through a shell
        effect: read
        shell: true
        run: ["printf '%s|%s|%s\\\\n'", "{{ params.x }}", "{{ play.operator }}", "{{ play.id }}"]
      - id: again
        title: Uses an earlier step's summary
        effect: read
        shell: true
        run: ["echo", "{{ steps.echo.summary }}", "{{ config.environment.mode }}"]
    """


@pytest.mark.parametrize("value", ["';touch pwned;'", "$(touch pwned)", "`touch pwned`", '"; touch pwned; "',
                                   "x\ntouch pwned"])
def test_params_are_data_in_shell_steps(root, value):
    write_playbook(root, "shelly", SHELL_STEP)
    res = cli_proc(root, "play", "shelly", "-p", f"x={value}", "--yes")
    assert res.returncode == 0, res.stderr
    assert not (root.path / "pwned").exists()
    out = finished(journal(root))["echo"]["output"]
    assert out.startswith(value + "|tester|")  # the value arrives exactly, as one argument


def test_operator_and_step_values_are_data_too(root):
    write_playbook(root, "shelly", SHELL_STEP)
    res = cli_proc(root, "play", "shelly", "--operator", "bob; touch pwned", "--yes")
    assert res.returncode == 0, res.stderr
    assert not (root.path / "pwned").exists()
    recs = finished(journal(root))
    assert recs["echo"]["output"].startswith("hello|bob; touch pwned|")
    # steps.* went through "$1" too: the earlier summary (which holds the operator) ran nothing
    assert "bob; touch pwned" in recs["again"]["output"]


def test_the_script_text_never_holds_a_value():
    from peaktrade.playbook.kinds.run import shell_script

    tctx = {"params": {"x": "$(touch pwned)"}, "play": {"operator": "bob'; id; '"}, "steps": {}, "config": {}}
    script, args = shell_script(["echo", "{{ params.x }}", "{{ play.operator | upper }}"], tctx)
    assert script == 'echo "${1}" "${2}"'
    assert args == ["$(touch pwned)", "BOB'; ID; '"]


@pytest.mark.parametrize("item, where", [
    ("echo '{{ params.x }}'", "single quotes"),
    ('echo "{{ params.x }}"', "double quotes"),
    ("echo $({{ params.x }})", "$( ... )"),
    ("echo `{{ params.x }}`", "backticks"),
    ("echo ${{ params.x }}", "${{"),
    ("{% if params.x %}echo{% endif %}", "Jinja blocks"),
])
def test_validate_rejects_unsafe_shell_templates_with_a_location(root, item, where):
    write_playbook(root, "unsafe", f"""
        params:
          x: {{type: string, default: a}}
        steps:
          - id: s
            title: Unsafe
            effect: read
            shell: true
            run: [{json.dumps(item)}]
        """)
    res = cli_proc(root, "validate", str(root.playbook_file("unsafe")))
    assert res.returncode == 2
    assert "unsafe.yaml:13:" in res.stdout and "$.steps[0].run[0] (step 's')" in res.stdout
    assert where in res.stdout
    # and the interpreter refuses it too (it validates first)
    assert cli_proc(root, "play", "unsafe", "--yes").returncode == 2


def test_validate_rejects_a_template_in_a_sh_c_argv(root):
    write_playbook(root, "shc", """
        params:
          x: {type: string, default: a}
        steps:
          - id: s
            title: Shell as argv
            effect: read
            run: ["/bin/bash", "-c", "echo {{ params.x }}"]
        """)
    res = cli_proc(root, "validate", str(root.playbook_file("shc")))
    assert res.returncode == 2 and "$.steps[0].run[2]" in res.stdout and "shell: true" in res.stdout


def test_safe_shell_text_passes():
    assert shell_problem("echo {{ params.x }} | grep -c \"$(date)\" 'a b' ${HOME}") is None
    assert shell_problem("awk '{print $1}' {{ params.file }}") is None


def test_a_secret_default_is_a_validation_warning(root):
    write_playbook(root, "sdef", """
        params:
          pin: {type: string, secret: true, default: "s3cr3t-value"}
        steps:
          - {id: s, title: t, effect: read, manual: m}
        """)
    res = cli_proc(root, "validate", str(root.playbook_file("sdef")))
    assert res.returncode == 0
    assert "$.params.pin.default: a secret param's default is readable" in res.stdout and "[warning]" in res.stdout
