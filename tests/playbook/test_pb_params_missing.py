"""Several required params missing: one message names them all (not one per attempt)."""

from __future__ import annotations

from pb_helpers import cli, write_playbook


def test_all_missing_required_params_are_named_at_once(root, capsys):
    write_playbook(root, "two", """
        params:
          run_id: {type: string, required: true}
          mode: {type: string, required: true, enum: [shadow, testnet]}
          n: {type: integer, default: 1}
        steps:
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: "{{ params.run_id }}"}}
        """)
    assert cli(root, "play", "two") == 2
    assert capsys.readouterr().err == ("peaktrade: playbook 'two' needs params 'run_id', 'mode' "
                                       "(pass -p run_id=... -p mode=...)\n")
    assert cli(root, "play", "two", "-p", "mode=shadow") == 2
    assert capsys.readouterr().err == "peaktrade: playbook 'two' needs param 'run_id' (pass -p run_id=...)\n"
    assert not root.plays_dir.exists()
