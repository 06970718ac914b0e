"""Semantic checks that need more than one file: decisions in roles.yaml, recursion, folders, config."""

from __future__ import annotations

from pathlib import Path

from peaktrade.root import Root
from peaktrade.validation import validate_config, validate_files, validate_paths, validate_playbook, validate_policy

PLAY = """\
name: {name}
title: T
runbook: 4
stage: any
steps:
{steps}
"""


def _write(root: Path, name: str, steps: str) -> Path:
    path = root / "playbooks" / f"{name}.yaml"
    path.write_text(PLAY.format(name=name, steps=steps))
    return path


def _texts(problems) -> list[str]:
    return [p.text() for p in problems]


def test_recursion_through_two_playbooks_is_reported_in_both(deploy):
    a = _write(deploy, "ping", "  - {id: call, title: C, effect: read, playbook: pong}\n")
    b = _write(deploy, "pong", "  - {id: back, title: B, effect: read, playbook: ping}\n")
    root = Root(deploy)
    assert _texts(validate_playbook(root, a)) == [
        "playbooks/ping.yaml:6:40: $.steps[0].playbook (step 'call'): playbook recursion: ping -> pong -> ping"]
    assert _texts(validate_playbook(root, b)) == [
        "playbooks/pong.yaml:6:40: $.steps[0].playbook (step 'back'): playbook recursion: pong -> ping -> pong"]


def test_sub_playbook_chain_without_a_cycle_is_fine(deploy):
    a = _write(deploy, "outer", "  - {id: call, title: C, effect: read, playbook: inner}\n")
    _write(deploy, "inner", "  - {id: s, title: S, effect: read, playbook: health-check}\n")
    assert validate_playbook(Root(deploy), a) == []


def test_approve_decision_is_checked_against_roles_yaml(deploy):
    (deploy / "policies" / "roles.yaml").write_text(
        "people: []\ndecisions:\n  live_activation: {}\n  kill_switch_release: {}\n")
    path = _write(deploy, "gated", "  - {id: ok, title: O, effect: read, approve: live_activation}\n"
                                   "  - {id: typo, title: T, effect: read, approve: live_activaton}\n")
    assert _texts(validate_playbook(Root(deploy), path)) == [
        "playbooks/gated.yaml:7:40: $.steps[1].approve (step 'typo'): unknown decision 'live_activaton': "
        "not in policies/roles.yaml decisions (did you mean 'live_activation'?)"]


def test_templated_action_arguments_are_not_judged_statically(deploy):
    path = _write(deploy, "templ", "  - {id: d, title: D, effect: read, action: disk.check,"
                                   " with: {min_free_pct: '{{ params.p }}'}}\n")
    path.write_text(path.read_text().replace("steps:", "params:\n  p: {type: number, default: 5}\nsteps:"))
    assert validate_playbook(Root(deploy), path) == []


def test_a_missing_path_is_a_located_problem_not_an_exception(deploy):
    root = Root(deploy)
    problems = validate_paths(root, [deploy / "playbooks" / "nope.yaml"])
    assert _texts(problems) == ["playbooks/nope.yaml:1:1: $: file not found"]


def test_a_folder_is_expanded_and_an_unknown_file_kind_is_reported(deploy):
    root = Root(deploy)
    report = validate_files(root, [deploy / "playbooks"])
    assert "playbooks/shutdown.yaml" in report.files and report.errors == []
    other = deploy / "notes" / "x.yaml"
    other.parent.mkdir()
    other.write_text("a: 1\n")
    assert _texts(validate_paths(root, [other])) == [
        "notes/x.yaml:1:1: $: cannot tell what this file is: expected a playbook in a playbooks/ folder, "
        "a policy in a policies/ folder, a .toml config or a .schema.json schema"]


def test_config_errors_are_located(deploy):
    cfg = deploy / "config" / "config.toml"
    text = cfg.read_text()
    line = text.splitlines().index('mode = "testnet"') + 1
    cfg.write_text(text.replace('mode = "testnet"', 'mode = "prod"'))
    problems = validate_config(Root(deploy))
    assert len(problems) == 1
    assert problems[0].text().startswith(f"config/config.toml:{line}:1: $.environment.mode: 'prod' is not one of")


def test_config_syntax_error_is_located(deploy):
    (deploy / "config" / "config.toml").write_text("[environment]\nmode = \n")
    [problem] = validate_config(Root(deploy))
    assert problem.text().startswith("config/config.toml:2:") and "TOML syntax error" in problem.message


def test_policy_without_schema_is_a_warning_and_does_not_fail(deploy):
    path = deploy / "policies" / "extra.yaml"
    path.write_text("anything: 1\n")
    root = Root(deploy)
    [problem] = validate_policy(root, path)
    assert problem.severity == "warning"
    assert problem.text() == ("policies/extra.yaml:1:1: $: no schema for policy 'extra' "
                              "(schemas/extra.schema.json): not checked beyond YAML syntax")
    assert validate_files(root).errors == []


def test_policy_schema_errors_are_all_reported(deploy):
    path = deploy / "policies" / "stages.yaml"
    path.write_text("- not\n- a mapping\n")
    assert _texts(validate_policy(Root(deploy), path)) == [
        "policies/stages.yaml:1:1: $: a policy file must be a mapping, not a list"]


def test_validate_playbook_is_what_the_interpreter_calls(repo_root):
    # contract of docs/architecture.md: validate_playbook(root, path) -> list[Problem], clean for shipped ones
    for name in ("health-check", "shutdown", "shutdown-emergency", "restart-after-maintenance"):
        assert validate_playbook(repo_root, repo_root.playbook_file(name)) == []


def test_read_step_using_act_step_data_warns_about_dry_run(deploy):
    steps = ("  - {id: start, title: S, effect: act, action: logs.backup}\n"
             "  - {id: show, title: Show, effect: read, manual: 'copied to {{ steps.start.data.target }}'}\n"
             "  - {id: guarded, title: G, effect: read, when: not play.dry_run,"
             " manual: 'copied to {{ steps.start.data.target }}'}\n"
             "  - {id: status, title: St, effect: read, when: \"steps.start.status == 'succeeded'\", manual: ok}\n")
    path = _write(deploy, "dry", steps)
    problems = validate_playbook(Root(deploy), path)
    assert [(p.severity, p.step, p.message) for p in problems] == [
        ("warning", "show", "steps.start.data is empty in --dry-run (step 'start' is an act step and does not run); "
                            "add `when: not play.dry_run`")]


def test_templates_in_title_note_or_on_failure_with_are_warned_as_literal(deploy):
    steps = ("  - id: a\n    title: 'Stage {{ params.x }}'\n    note: 'see {{ params.x }}'\n"
             "    manual: 'do {{ params.x }}'\n    effect: read\n"
             "    on_failure: {playbook: shutdown, with: {reason: '{{ params.x }}'}}\n")
    path = _write(deploy, "lit", steps)
    path.write_text(path.read_text().replace("steps:", "params:\n  x: {type: string, default: a}\nsteps:"))
    problems = validate_playbook(Root(deploy), path)
    assert [(p.severity, p.path, p.message) for p in problems] == [
        ("warning", "$.steps[0].title", "not rendered here: 'Stage {{ params.x }}' is used as written"),
        ("warning", "$.steps[0].note", "not rendered here: 'see {{ params.x }}' is used as written"),
        ("warning", "$.steps[0].on_failure.with.reason",
         "not rendered here: '{{ params.x }}' is used as written")]


def test_timeout_outside_run_steps_is_a_warning(deploy):
    path = _write(deploy, "tmo", "  - {id: d, title: D, effect: read, action: disk.check, timeout: 5}\n"
                                 "  - {id: r, title: R, effect: read, run: ['true'], timeout: 5}\n")
    assert [(p.severity, p.step, p.message) for p in validate_playbook(Root(deploy), path)] == [
        ("warning", "d", "timeout applies to run steps only; it is ignored here")]


def test_schema_files_are_checked_against_the_metaschema_when_named(deploy):
    bad = deploy / "schemas" / "bad.schema.json"
    bad.write_text('{\n  "type": "object",\n  "properties": {\n    "a": {"type": "strin"}\n  }\n}\n')
    broken = deploy / "schemas" / "broken.schema.json"
    broken.write_text('{\n  "type": "object",\n}\n')
    root = Root(deploy)
    assert _texts(validate_paths(root, [bad, broken])) == [
        "schemas/bad.schema.json:4:11: $.properties.a.type: 'strin' is not one of "
        "['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']",
        "schemas/broken.schema.json:3:1: $: JSON syntax error: Expecting property name enclosed in double quotes"]
    assert validate_paths(root, [deploy / "schemas" / "playbook.schema.json"]) == []
    assert "schemas/bad.schema.json" not in validate_files(root).files  # not part of the default set


def test_the_design_example_message_reads_exactly_like_design_4(deploy):
    """DESIGN 4: `playbooks/testnet-start.yaml:14:7: $.steps[2].with.stage (step 'readiness'): ...`."""
    import yaml

    path = deploy / "playbooks" / "testnet-start.yaml"
    if not path.is_file():
        import pytest

        pytest.skip("testnet-start.yaml not shipped yet")
    steps = yaml.safe_load(path.read_text())["steps"]
    index = next(i for i, s in enumerate(steps) if s.get("action") == "readiness.check")
    sid = steps[index]["id"]
    lines = path.read_text().splitlines()
    action_line = next(n for n, ln in enumerate(lines) if ln.strip() == "action: readiness.check")
    indent = len(lines[action_line]) - len(lines[action_line].lstrip())
    # rewrite the step's with: as a block mapping with the typo
    with_line = next(n for n in range(action_line + 1, len(lines)) if lines[n].strip().startswith("with:"))
    lines[with_line] = " " * indent + "with:"
    lines.insert(with_line + 1, " " * (indent + 2) + "stage: tesnet")
    path.write_text("\n".join(lines) + "\n")
    [problem] = validate_playbook(Root(deploy), path)
    assert problem.text() == (
        f"playbooks/testnet-start.yaml:{with_line + 2}:{indent + 3}: $.steps[{index}].with.stage (step '{sid}'): "
        "'tesnet' is not one of ['shadow', 'testnet', 'live']")


def test_play_level_on_failure_is_used_as_written(deploy):
    path = _write(deploy, "pof", "  - {id: a, title: A, effect: read, manual: ok}\n")
    path.write_text(path.read_text() + "on_failure: {playbook: shutdown, with: {reason: '{{ params.nope }}'}}\n")
    assert [(p.severity, p.path, p.message) for p in validate_playbook(Root(deploy), path)] == [
        ("warning", "$.on_failure.with.reason", "not rendered here: '{{ params.nope }}' is used as written")]


def test_validate_adds_the_cross_policy_checks_for_policy_files(deploy, cli):
    stages = deploy / "policies" / "stages.yaml"
    stages.write_text(stages.read_text().replace("decision: stage_promotion", "decision: board_vote", 1))
    root = Root(deploy)
    texts = _texts(validate_files(root).errors)
    assert len(texts) == 1
    assert texts[0].startswith("policies/stages.yaml:") and \
        texts[0].endswith("decision 'board_vote' is not defined in policies/roles.yaml")
    assert validate_files(root, [deploy / "playbooks"]).errors == []  # only when policies are validated
    code, out, _ = cli("--root", str(deploy), "validate", str(stages))
    assert code == 2 and "board_vote" in out


def test_unreadable_paths_are_located_problems(deploy):
    root = Root(deploy)
    [too_long] = validate_paths(root, [Path("x" * 5000)])
    assert too_long.message == "cannot read: File name too long" and too_long.line == 1
    empty = deploy / "empty"
    empty.mkdir()
    assert _texts(validate_paths(root, [empty])) == [
        "empty:1:1: $: folder holds no .yaml, .toml or .schema.json files"]


def test_folder_expansion_skips_hidden_folders_and_files_that_are_not_ours(deploy):
    (deploy / ".venv" / "playbooks").mkdir(parents=True)
    (deploy / ".venv" / "playbooks" / "x.yaml").write_text("not: [valid\n")
    (deploy / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (deploy / "ci").mkdir()
    (deploy / "ci" / "workflow.yml").write_text("on: push\n")
    report = validate_files(Root(deploy), [deploy])
    assert report.errors == []
    assert "config/config.toml" in report.files and "playbooks/shutdown.yaml" in report.files
    assert "schemas/playbook.schema.json" in report.files
    assert not {"pyproject.toml", "ci/workflow.yml", ".venv/playbooks/x.yaml"} & set(report.files)
    # named explicitly, a .toml file is a config and says what is wrong with it
    assert any(p.message == "'environment' is a required property"
               for p in validate_paths(Root(deploy), [deploy / "pyproject.toml"]))


def test_an_empty_path_argument_is_a_usage_error(cli, deploy):
    code, out, err = cli("--root", str(deploy), "validate", "")
    assert code == 2 and out == ""
    assert "an empty PATH names no file" in err
