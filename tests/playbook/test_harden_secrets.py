"""Issue 10, classes 5-7: secrets by declaration, run: environments, confined writes, copied journals."""

from __future__ import annotations

import shutil

from pb_helpers import PY, cli, cli_proc, finished, journal, write_playbook

from peaktrade.playbook.kinds.run import step_env
from peaktrade.playbook.model import Step

MARK = "MRK7c1d9e2f4a"


def _use_odd_credential_names(root) -> None:
    """config.toml names credential variables that do not look secret."""
    cfg = root.config_file
    text = cfg.read_text()
    text = text.replace('"KRAKEN_TESTNET_API_KEY"', '"KRK_T_PRIV"').replace('"KRAKEN_API_SECRET"', '"KRK_LIVE_S"')
    text = text.replace('password_env = ""', 'password_env = "SMTP_PASS"')
    cfg.write_text(text)


def _everything(root) -> str:
    """Every file the plays wrote (the playbooks themselves hold the test's defaults)."""
    return "\n".join(p.read_text(errors="replace") for p in root.path.rglob("*")
                     if p.is_file() and "playbooks" not in p.relative_to(root.path).parts[:1])


SHOW_BOTH = "import os; print(os.environ.get('KRK_T_PRIV', 'unset'), os.environ.get('SMTP_PASS', 'unset'))"


def test_config_credential_variables_are_secrets_whatever_their_names(root):
    _use_odd_credential_names(root)
    write_playbook(root, "envdump", f"""
        steps:
          - id: withheld
            title: The environment without credentials
            effect: read
            run: ["{PY}", "-c", "{SHOW_BOTH}"]
          - id: asked
            title: A step that needs the testnet key
            effect: read
            env_from_secrets: [KRK_T_PRIV]
            run: ["{PY}", "-c", "import os; print(os.environ['KRK_T_PRIV'], os.environ.get('SMTP_PASS', 'unset'))"]
        """)
    res = cli_proc(root, "play", "envdump", env={"KRK_T_PRIV": MARK + "k", "SMTP_PASS": MARK + "p"})
    assert res.returncode == 0, res.stderr
    recs = finished(journal(root))
    assert recs["withheld"]["output"].strip() == "unset unset"
    assert recs["asked"]["output"].strip() == "***REDACTED*** unset"
    assert MARK not in _everything(root) and MARK not in res.stdout + res.stderr


def test_a_step_asking_for_a_live_credential_is_live_sensitive():
    config = {"exchange": {"api_key_env": {"testnet": "T_KEY", "live": "L_KEY"}}}
    step = Step("s", "t", "read", "run", {"run": ["env"], "env_from_secrets": ["L_KEY", "T_KEY"]})
    _env, live = step_env(step, config)
    assert live == ["L_KEY"]
    plain = Step("s", "t", "read", "run", {"run": ["env"], "env_from_secrets": ["T_KEY"]})
    assert step_env(plain, config)[1] == []


SECRET_PB = f"""
    params:
      pin: {{type: string, secret: true, default: "{MARK}default"}}
      api_token: {{type: string, default: "{MARK}token"}}
    steps:
      - id: show
        title: Echoes its params
        effect: read
        run: ["{PY}", "-c", "import sys; print(sys.argv[1:])", "{{{{ params.pin }}}}", "{{{{ params.api_token }}}}"]
      - id: act
        title: An act step (described in a dry run)
        effect: act
        action: ops.log
        with: {{message: "pin {{{{ params.pin }}}} token {{{{ params.api_token }}}}", reason: "{{{{ params.pin }}}}"}}
      - id: fail
        title: Fails with the secret in its summary
        effect: read
        run: ["{PY}", "-c", "import sys; sys.exit(sys.argv[1])", "{{{{ params.pin }}}}"]
    """


def test_secret_params_are_masked_everywhere_dry_run_included(root):
    write_playbook(root, "secretive", SECRET_PB)
    outputs = []
    for args in (["--dry-run"], ["--yes"], ["-p", f"pin={MARK}given", "--yes"]):
        res = cli_proc(root, "play", "secretive", *args)
        assert res.returncode in (0, 1), res.stderr
        outputs.append(res.stdout + res.stderr)
    assert "***REDACTED***" in _everything(root)
    assert MARK not in _everything(root)
    assert not any(MARK in out for out in outputs)


def test_resume_asks_for_secret_params_again(root):
    write_playbook(root, "secretive", SECRET_PB)
    assert cli_proc(root, "play", "secretive", "--yes").returncode == 1
    play_id = journal(root)[0]["play_id"]
    res = cli_proc(root, "play", "secretive", "--resume", play_id)
    assert res.returncode == 2 and "pass them again" in res.stderr and "pin" in res.stderr
    res = cli_proc(root, "play", "secretive", "--resume", play_id, "-p", "other=1")
    assert res.returncode == 2 and "do not pass -p other" in res.stderr


def test_export_writes_only_below_the_root_and_is_an_act_step(root, tmp_path):
    outside = tmp_path / "outside.csv"
    write_playbook(root, "exporter", f"""
        steps:
          - id: abs
            title: Absolute path
            effect: act
            action: experiments.export
            with: {{run_id: testnet_20260101_000000_abcdef, path: "{outside}"}}
            on_failure: continue
          - id: up
            title: Up and out
            effect: act
            action: experiments.export
            with: {{run_id: testnet_20260101_000000_abcdef, path: "../outside.csv"}}
        """)
    assert cli(root, "play", "exporter", "--dry-run") == 0  # described, nothing written
    recs = finished(journal(root))
    assert recs["abs"]["status"] == "would-run" or recs["abs"]["status"].startswith("would")
    before = set(root.plays_dir.iterdir())
    assert cli(root, "play", "exporter", "--yes") == 1
    (second,) = set(root.plays_dir.iterdir()) - before  # play ids of one second do not sort by time
    recs = finished(journal(root, second.name))
    assert "below the deployment root" in recs["abs"]["summary"]
    assert "below the deployment root" in recs["up"]["summary"]
    assert not outside.exists()


def test_export_read_effect_is_refused_by_validate(root):
    write_playbook(root, "exp-read", """
        steps:
          - id: e
            title: Export
            effect: read
            action: experiments.export
            with: {run_id: testnet_20260101_000000_abcdef}
        """)
    res = cli_proc(root, "validate", str(root.playbook_file("exp-read")))
    assert res.returncode == 2 and "effect act" in res.stdout


def test_a_copied_journal_is_not_resumable_and_leaves_the_original_checklist(root):
    write_playbook(root, "fails", """
        steps:
          - {id: boom, title: Fails, effect: read, action: test.echo, with: {message: m, fail: true}}
        """)
    assert cli(root, "play", "fails") == 1
    (orig,) = list(root.plays_dir.iterdir())
    checklist = next(root.checklists_dir.glob(f"*_{orig.name}.md"))
    before = checklist.read_text()
    copy = root.plays_dir / "20991231-000000-c0ffee"
    shutil.copytree(orig, copy)
    res = cli_proc(root, "play", "fails", "--resume", copy.name)
    # refused by the journal's own play id (or, with the desk state, as a journal made outside a play)
    assert res.returncode == 3 and ("records play id" in res.stderr or "copied" in res.stderr)
    assert checklist.read_text() == before
