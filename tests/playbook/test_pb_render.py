"""Checklists, incident reports, operations.log, plays list/show, incident new, params and bad input."""

from __future__ import annotations

import json

from pb_helpers import PY, cli, cli_proc, finished, journal, write_playbook


def test_health_check_end_to_end_leaves_journal_checklist_and_oplog(root):
    res = cli_proc(root, "play", "health-check", "--yes", "--operator", "alice")
    assert res.returncode == 0, res.stdout + res.stderr
    (play_dir,) = list(root.plays_dir.iterdir())
    play_id = play_dir.name
    assert f"play {play_id}: succeeded" in res.stdout
    assert f"journal:   var/plays/{play_id}/journal.jsonl" in res.stdout
    (checklist,) = root.checklists_dir.glob(f"????-??-??_health-check_{play_id}.md")
    assert f"checklist: reports/checklists/{checklist.name}" in res.stdout
    text = checklist.read_text()
    assert "# Checklist: Daily system health check" in text
    assert "| Operator | alice |" in text and "| Outcome | **succeeded** |" in text
    assert "| x | `disk` |" in text
    line = root.operations_log.read_text().splitlines()[-1]
    assert f"operator=alice playbook/what=health-check play={play_id} outcome=succeeded reason=-" in line


def test_checklist_lists_every_planned_step_with_status_and_notes(root):
    write_playbook(root, "partial", """
        steps:
          - {id: ok, title: Fine, effect: read, action: test.echo, with: {message: "all | good"}}
          - {id: skip, title: Not today, effect: read, when: "false", action: test.echo, with: {message: s}}
          - {id: hand, title: By hand, effect: read, manual: "Look"}
          - {id: bad, title: Broken, effect: read, action: test.echo, with: {message: nope, fail: true}}
          - {id: later, title: Never reached, effect: read, action: test.echo, with: {message: x}}
        """)
    assert cli(root, "play", "partial", "--yes", "--operator", "bob") == 1
    (checklist,) = root.checklists_dir.glob("*_partial_*.md")
    text = checklist.read_text()
    assert "| x | `ok` | Fine | succeeded | bob |" in text
    assert "| – | `skip` | Not today | skipped | bob |" in text  # skipped is marked, not ticked
    assert "all \\| good" in text  # a pipe in a summary does not break the table
    assert "(note: acknowledged via --yes)" in text
    assert "|   | `bad` | Broken | failed | bob |" in text
    assert "|   | `later` | Never reached | not reached |" in text
    assert "| Outcome | **failed**: step bad failed: failed: nope |" in text


def test_incident_report_has_the_design_fields(root):
    write_playbook(root, "broken", """
        steps:
          - {id: bad, title: Broken, effect: read, action: test.echo, with: {message: nope, fail: true}}
        """)
    assert cli(root, "play", "broken") == 1
    (incident,) = root.incidents_dir.glob("*_broken_*.md")
    text = incident.read_text()
    for field in ("| Date |", "| Severity | medium |", "| Status | open |", "## Summary", "| Detected |",
                  "| Paused |", "| Analysed |", "| Root cause found |", "| Fix deployed |", "## Root cause",
                  "## Impact", "Run ids: none", "Financial impact: none", "## Resolution", "## Lessons learned",
                  "## Action items"):
        assert field in text, field
    assert "step bad failed: failed: nope" in text
    assert "| `bad` | failed | failed: nope |" in text


def test_incident_new_renders_a_fresh_report(root, capsys):
    assert cli(root, "incident", "new", "--runbook", "health-check", "--severity", "high",
               "--run-id", "shadow_20251207_120000_abc123") == 0
    rel = capsys.readouterr().out.strip()
    text = (root.path / rel).read_text()
    assert rel.startswith("reports/incidents/") and "_health-check_" in rel
    assert "# Incident: Daily system health check (run shadow_20251207_120000_abc123)" in text
    assert "| Severity | high |" in text and "Run ids: shadow_20251207_120000_abc123" in text
    assert cli(root, "incident", "new", "--runbook", "x", "--severity", "huge") == 2
    assert cli(root, "incident", "new", "--runbook", "no-such-playbook", "--severity", "low") == 2
    assert not list(root.incidents_dir.glob("*no-such-playbook*"))


# approvals in the journal and the checklist: tests/policy/test_approvals9_flows.py (real SSH-signed flow)


def test_secrets_never_reach_journal_checklist_or_incident(root):
    write_playbook(root, "leaky", f"""
        steps:
          - id: leak
            title: Prints a secret
            effect: read
            env_from_secrets: [KRAKEN_API_SECRET]  # credential variables are withheld unless asked for
            run: ["{PY}", "-c", "import os; print(os.environ['KRAKEN_API_SECRET']); raise SystemExit(1)"]
        """)
    res = cli_proc(root, "play", "leaky", env={"KRAKEN_API_SECRET": "topsecretvalue42"})
    assert res.returncode == 1
    for p in [*root.path.rglob("*.jsonl"), *root.path.rglob("*.md"), root.operations_log]:
        assert "topsecretvalue42" not in p.read_text(), p
    assert "***REDACTED***" in finished(journal(root))["leak"]["output"]


def test_params_are_typed_and_checked(root, capsys):
    write_playbook(root, "typed", """
        params:
          n: {type: integer, default: 1}
          x: {type: number, required: true}
          flag: {type: boolean, default: false}
          stage: {type: string, default: testnet, enum: [shadow, testnet]}
        steps:
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: "n={{ params.n }}"}}
        """)
    cases = {
        ("-p", "x=1", "-p", "bogus=1"): "playbook 'typed' has no param 'bogus' (declared: flag, n, stage, x)",
        ("-p", "x=1", "-p", "n=1.5"): "param 'n': '1.5' is not a valid integer",
        ("-p", "x=abc",): "param 'x': 'abc' is not a valid number",
        ("-p", "x=1", "-p", "flag=maybe"): "param 'flag': 'maybe' is not a valid boolean",
        ("-p", "x=1", "-p", "stage=live"): "param 'stage': 'live' is not one of ['shadow', 'testnet']",
        (): "playbook 'typed' needs param 'x' (pass -p x=...)",
        ("-p", "novalue"): "-p 'novalue': expected NAME=VALUE",
    }
    for args, message in cases.items():
        assert cli(root, "play", "typed", *args) == 2, args
        assert message in capsys.readouterr().err
    assert not root.plays_dir.exists()
    assert cli(root, "play", "typed", "-p", "x=2.5", "-p", "flag=yes", "-p", "n=7") == 0
    assert journal(root)[0]["params"] == {"n": 7, "x": 2.5, "flag": True, "stage": "testnet"}


def test_unknown_and_invalid_playbooks_are_usage_errors(root):
    res = cli_proc(root, "play", "nope")
    assert res.returncode == 2
    assert "peaktrade: unknown playbook 'nope'" in res.stderr and "health-check" in res.stderr
    write_playbook(root, "invalid", """
        steps:
          - {id: x, title: X, effect: maybe, action: test.echo}
        """)
    res = cli_proc(root, "play", "invalid")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert ("playbooks/invalid.yaml:7:23: $.steps[0].effect (step 'x'): 'maybe' is not one of ['read', 'act']"
            in res.stderr)


def test_plays_list_and_show_json(root, capsys):
    write_playbook(root, "fine", """
        steps:
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: fine}}
        """)
    assert cli(root, "play", "fine", "--operator", "zoe") == 0
    assert cli(root, "play", "fine", "--dry-run", "--operator", "zoe") == 0
    capsys.readouterr()
    assert cli(root, "plays", "list", "--json", "--limit", "1") == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["integrity"] == "ok" and rows[0]["operator"] == "zoe"
    assert cli(root, "plays", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["dry_run"] for r in rows) == [False, True]
    play_id = rows[0]["play_id"]
    assert cli(root, "plays", "show", play_id, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["outcome"] == "succeeded" and shown["steps"][0]["step"] == "ok"
    assert shown["steps"][0]["status"] == "succeeded" and shown["problems"] == []
    assert cli(root, "plays", "show", "20990101-000000-ffffff") == 2


def test_operator_from_environment(root, monkeypatch):
    write_playbook(root, "fine", """
        steps:
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: fine}}
        """)
    monkeypatch.setenv("PEAKTRADE_OPERATOR", "env-op")
    assert cli(root, "play", "fine") == 0
    assert journal(root)[0]["operator"] == "env-op"
