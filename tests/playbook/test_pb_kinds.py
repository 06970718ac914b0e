"""Every step kind, through the real CLI entry point and a real deployment root."""

from __future__ import annotations

import json

from pb_helpers import PY, cli, cli_proc, finished, journal, write_playbook


def test_run_param_with_shell_metacharacters_stays_one_argv_item(root):
    write_playbook(root, "inject", f"""
        params:
          target: {{type: string, default: x}}
        steps:
          - id: argv
            title: Print argv
            effect: read
            run: ["{PY}", "-c", "import sys, json; print(json.dumps(sys.argv[1:]))", "{{{{ params.target }}}}"]
        """)
    rc = cli(root, "play", "inject", "-p", "target=x; touch pwned", "--yes")
    assert rc == 0
    rec = finished(journal(root))["argv"]
    assert rec["status"] == "succeeded"
    assert '["x; touch pwned"]' in rec["output"]
    assert not (root.path / "pwned").exists()


def test_shell_true_quotes_params(root):
    write_playbook(root, "shelly", """
        params:
          target: {type: string, default: x}
        steps:
          - id: echo
            title: Echo through a shell
            effect: read
            shell: true
            run: ["echo", "{{ params.target }}"]
        """)
    assert cli(root, "play", "shelly", "-p", "target=x; touch pwned $(touch pwned2)") == 0
    rec = finished(journal(root))["echo"]
    assert "x; touch pwned $(touch pwned2)" in rec["output"]
    assert not (root.path / "pwned").exists() and not (root.path / "pwned2").exists()


def test_run_expect_exit_code_and_output(root):
    write_playbook(root, "expect", f"""
        steps:
          - id: code3
            title: Exit 3 is expected
            effect: read
            run: ["{PY}", "-c", "print('hello world'); raise SystemExit(3)"]
            expect: {{exit_code: [0, 3], output: "hello w"}}
            on_failure: continue
          - id: nomatch
            title: Output must match
            effect: read
            run: ["{PY}", "-c", "print('goodbye')"]
            expect: {{output: "^hello"}}
        """)
    assert cli(root, "play", "expect") == 1
    recs = finished(journal(root))
    assert recs["code3"]["status"] == "succeeded"
    assert recs["nomatch"]["status"] == "failed"
    assert recs["nomatch"]["summary"].startswith("output does not match /^hello/")


def test_run_timeout_kills_process_group(root):
    # the child spawns a grandchild that would write a file after 3 s; the whole group must die
    script = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1.5); open(\\'late\\', \\'w\\')']); "
              "time.sleep(30)")
    write_playbook(root, "slow", f"""
        steps:
          - id: slow
            title: Too slow
            effect: read
            timeout: 0.5
            run: {json.dumps([PY, "-c", script])}
        """)
    assert cli(root, "play", "slow") == 1
    rec = finished(journal(root))["slow"]
    assert rec["status"] == "failed" and rec["summary"].startswith("timed out after 0.5s")
    import time
    time.sleep(2.0)  # a real grandchild: only real time shows it was killed
    assert not (root.path / "late").exists()


def test_missing_command_is_errored_not_failed(root):
    write_playbook(root, "nocmd", """
        steps:
          - id: nope
            title: No such command
            effect: read
            run: ["definitely-not-a-command-xyz"]
        """)
    assert cli(root, "play", "nocmd") == 1
    rec = finished(journal(root))["nope"]
    assert rec["status"] == "errored"
    assert rec["summary"] == "command not found: definitely-not-a-command-xyz"


def test_action_args_are_rendered_and_schema_checked(root):
    write_playbook(root, "acts", """
        params:
          n: {type: integer, default: 2}
        steps:
          - id: ok
            title: Echo
            effect: read
            action: test.echo
            with: {message: "n is {{ params.n }}", count: "{{ params.n }}"}
          - id: bad
            title: Count must be an integer after rendering
            effect: read
            action: test.echo
            with: {message: hi, count: "{{ params.n }} apples"}
        """)
    assert cli(root, "play", "acts") == 1
    recs = finished(journal(root))
    assert recs["ok"]["status"] == "succeeded" and recs["ok"]["summary"] == "n is 2"
    assert recs["ok"]["data"]["count"] == 2
    assert recs["bad"]["status"] == "errored"
    assert recs["bad"]["summary"] == ("invalid arguments for action test.echo: "
                                      "$.count: '2 apples' is not of type 'integer'")


def test_crashing_action_is_errored_and_play_fails(root):
    write_playbook(root, "boom", """
        steps:
          - {id: boom, title: Crash, effect: read, action: test.boom}
        """)
    assert cli(root, "play", "boom") == 1
    assert finished(journal(root))["boom"]["summary"] == "RuntimeError: kaboom"


def test_confirm_manual_with_yes(root):
    write_playbook(root, "human", """
        steps:
          - {id: sure, title: Sure?, effect: act, confirm: "Stop everything?"}
          - {id: hand, title: By hand, effect: act, manual: "Check the dashboard"}
        """)
    assert cli(root, "play", "human", "--yes") == 0
    recs = finished(journal(root))
    assert recs["sure"]["answer"] == "yes" and recs["sure"]["summary"] == "confirmed via --yes"
    assert recs["hand"]["note"] == "acknowledged via --yes"


def test_no_tty_confirm_manual_decide_fail_clearly(root):
    write_playbook(root, "notty", """
        steps:
          - {id: sure, title: Sure?, effect: read, confirm: "Go?", on_failure: continue}
          - {id: hand, title: By hand, effect: read, manual: "Do it", on_failure: continue}
          - id: pick
            title: Pick
            effect: read
            decide: {question: "Which?", options: {A: first, B: second}}
        """)
    proc = cli_proc(root, "play", "notty")
    assert proc.returncode == 1, proc.stderr
    recs = finished(journal(root))
    assert recs["sure"]["summary"] == "confirmation needs an operator at a terminal: run it in a terminal or pass --yes"
    assert recs["hand"]["summary"].startswith("manual step needs an operator at a terminal")
    assert recs["pick"]["summary"] == ("decision needs an answer: run it in a terminal or pass --answer pick=OPTION "
                                       "(options: A, B)")
    assert "Traceback" not in proc.stderr


def test_decide_answer_drives_when(root):
    write_playbook(root, "branch", """
        steps:
          - id: pick
            title: Pick
            effect: read
            decide: {question: "Which?", options: {A: first, B: second}}
          - {id: on-a, title: A path, effect: read, action: test.echo, with: {message: a},
             when: "steps.pick.answer == 'A'"}
          - {id: on-b, title: B path, effect: read, action: test.echo, with: {message: b},
             when: "steps.pick.answer == 'B'"}
        """)
    assert cli(root, "play", "branch", "--answer", "pick=B", "--yes") == 0
    recs = finished(journal(root))
    assert recs["pick"]["answer"] == "B"
    assert recs["on-a"]["status"] == "skipped" and recs["on-a"]["summary"] == "when: steps.pick.answer == 'A' is false"
    assert recs["on-b"]["status"] == "succeeded"


def test_answer_that_is_not_an_option_is_usage_error(root, capsys):
    write_playbook(root, "branch2", """
        steps:
          - id: pick
            title: Pick
            effect: read
            decide: {question: "Which?", options: {A: first, B: second}}
        """)
    assert cli(root, "play", "branch2", "--answer", "pick=C") == 2
    assert "--answer pick=C: not one of A, B" in capsys.readouterr().err
    assert cli(root, "play", "branch2", "--answer", "nope=A") == 2
    assert not root.plays_dir.exists()


def test_interactive_prompts_read_the_terminal(root):
    from peaktrade.playbook.context import Prompter
    from peaktrade.playbook.interpreter import PlayRequest, play

    class Tty:
        def __init__(self, lines):
            self.lines = list(lines)

        def isatty(self):
            return True

        def readline(self):
            return self.lines.pop(0) + "\n" if self.lines else ""

    import io
    write_playbook(root, "ask", """
        steps:
          - {id: sure, title: Sure?, effect: read, confirm: "Go?"}
          - {id: hand, title: By hand, effect: read, manual: "Do it"}
          - id: pick
            title: Pick
            effect: read
            decide: {question: "Which?", options: {A: first, B: second}}
        """)
    out = io.StringIO()
    prompter = Prompter(Tty(["maybe", "y", "y", "checked twice", "Z", "A"]), out)
    rep = play(root, PlayRequest("ask", prompter=prompter, echo=lambda s: None, operator="ann"))
    assert rep.exit_code == 0
    recs = finished(journal(root, rep.play_id))
    assert recs["hand"]["note"] == "checked twice" and recs["hand"]["operator"] == "ann"
    assert recs["pick"]["answer"] == "A"
    assert out.getvalue().count("? Go? [y/n]") == 2  # "maybe" was asked again


def test_subplaybook_runs_in_same_journal_with_params(root):
    write_playbook(root, "child", """
        params:
          msg: {type: string, required: true}
        steps:
          - {id: say, title: Say, effect: read, action: test.echo, with: {message: "child says {{ params.msg }}"}}
        """)
    write_playbook(root, "parent", """
        steps:
          - {id: sub, title: Child, effect: read, playbook: child, with: {msg: hello}}
        """)
    assert cli(root, "play", "parent") == 0
    recs = journal(root)
    fin = finished(recs)
    assert fin["sub/say"]["summary"] == "child says hello"
    assert fin["sub"]["status"] == "succeeded"
    assert [r["type"] for r in recs].count("subplay_started") == 1
    assert len(list(root.plays_dir.iterdir())) == 1
    text = next(root.checklists_dir.glob("*_parent_*.md")).read_text()
    assert text.index("| `sub` |") < text.index("| `sub/say` | Say | succeeded |")


def test_long_output_is_bounded_in_the_journal(root):
    write_playbook(root, "chatty", f"""
        steps:
          - id: chatty
            title: Lots of output
            effect: read
            run: {json.dumps([PY, "-c", "print('a' * 20000); print('the end')"])}
        """)
    assert cli(root, "play", "chatty") == 0
    out = finished(journal(root))["chatty"]["output"]
    assert out.startswith("[...]\n") and out.endswith("the end\n") and len(out) < 4100
