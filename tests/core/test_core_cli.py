import subprocess
import sys

import typer

import peaktrade.cli as cli
from peaktrade.errors import BlockedError, UsageError


def _run(argv):
    return cli.run(argv)


def test_help_exits_zero(capsys):
    assert _run(["--help"]) == 0
    assert "Usage: peaktrade" in capsys.readouterr().out


def test_unknown_command_is_usage_error(capsys):
    assert _run(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def _add(name, fn):
    cli.app.command(name)(fn)


def test_peaktrade_errors_map_to_exit_codes(capsys, monkeypatch):
    def blocked() -> None:
        raise BlockedError("live gate closed", details=["live.enabled is false"])

    def usage() -> None:
        raise UsageError("bad param 'x'")

    def interrupted() -> None:
        raise KeyboardInterrupt

    def bug() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_register_all", lambda: None)
    for name, fn in [("t-blocked", blocked), ("t-usage", usage), ("t-int", interrupted), ("t-bug", bug)]:
        _add(name, fn)
    try:
        assert _run(["t-blocked"]) == 3
        err = capsys.readouterr().err
        assert "peaktrade: live gate closed" in err and "live.enabled is false" in err
        assert _run(["t-usage"]) == 2
        assert _run(["t-int"]) == 130
        assert _run(["t-bug"]) == 1
        err = capsys.readouterr().err
        assert "internal error: RuntimeError: boom" in err and "Traceback" not in err
    finally:
        cli.app.registered_commands[:] = [
            c for c in cli.app.registered_commands if not (c.name or "").startswith("t-")
        ]


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys, peaktrade.cli as c\n"
        "rc = c.run(['--help'])\n"
        "heavy = [m for m in ('ccxt', 'pandas', 'pyarrow', 'jsonschema', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_typer_is_used():
    assert isinstance(cli.app, typer.Typer)
