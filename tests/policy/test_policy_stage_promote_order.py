"""`stage promote` without a terminal and without --yes: a wrong --to, or missing evidence, is
reported as such (exit 2 / 3) - not hidden behind "run it in a terminal or pass --yes"."""

from __future__ import annotations

import pytest

from peaktrade.cli import run


@pytest.fixture
def cli(root, monkeypatch, capsys):
    monkeypatch.setenv("PEAKTRADE_ROOT", str(root.path))

    def call(*argv):
        code = run(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def test_unknown_target_stage_is_said_first(cli):
    code, _, err = cli("stage", "promote", "--to", "prod")
    assert code == 2 and err.startswith("peaktrade: --to 'prod': one of shadow, testnet, live")


def test_no_transition_is_said_first(cli):
    code, _, err = cli("stage", "promote", "--to", "shadow")
    assert code == 2 and err.startswith("peaktrade: no transition testnet -> shadow")


def test_missing_evidence_is_said_first(cli):
    code, _, err = cli("stage", "promote", "--to", "live")
    assert code == 3 and err.startswith("peaktrade: promotion testnet -> live blocked: evidence missing")
