"""The lazy registration of CLI commands (start-up bar) shows and runs exactly what full registration does."""

from __future__ import annotations

import subprocess
import sys

import typer

from peaktrade.cli import _lazy


def _full_command_names() -> dict[str, str]:
    import peaktrade.cli as cli

    app = typer.Typer()
    modules, broken = _lazy._modules()
    assert broken == 0
    for module in modules:
        module.register(app)
    cmd = typer.main.get_command(app)
    del cli
    return {name: (c.get_short_help_str(limit=300)) for name, c in cmd.commands.items() if not c.hidden}


def test_command_name_skips_global_options():
    assert _lazy.command_name(["--root", "x", "validate", "a.yaml"]) == "validate"
    assert _lazy.command_name(["--root=x", "playbooks", "list"]) == "playbooks"
    assert _lazy.command_name(["--help"]) is None
    assert _lazy.command_name([]) is None


def test_top_level_help_lists_every_command_with_its_help():
    proc = subprocess.run([sys.executable, "-m", "peaktrade", "--help"], capture_output=True, text=True,
                          timeout=60, env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split("Commands:", 1)[1]
    full = _full_command_names()
    assert len(full) > 10
    for name, short in full.items():
        line = next((ln for ln in listed.splitlines() if ln.split()[:1] == [name]), None)
        assert line is not None, name
        assert short.split()[0] in line, (name, short, line)


def test_every_command_and_group_answers_help(cli):
    for name in _full_command_names():
        code, out, err = cli(name, "--help")
        assert code == 0, (name, err)
        assert f"Usage: peaktrade {name}" in out, name


def test_unknown_command_is_a_usage_error_with_the_name(cli):
    code, out, err = cli("valdate")
    assert code == 2 and "No such command 'valdate'" in out + err


def test_a_broken_command_module_breaks_only_its_own_commands(cli, monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, package=None):
        if name == "peaktrade.cli.plays":
            raise SyntaxError("f-string: unmatched '['")
        return real(name, package)

    monkeypatch.setattr(_lazy.importlib, "import_module", fake)
    code, out, _ = cli("--root", str(_lazy.__file__).rsplit("/peaktrade/", 1)[0], "playbooks", "list", "--json")
    assert code == 0 and '"health-check"' in out
    code, _, err = cli("plays", "list")
    assert code == 1 and "internal error: SyntaxError" in err
