"""The policy command modules keep `peaktrade --help` light: typer and the standard library only."""

from __future__ import annotations

import subprocess
import sys


def test_policy_cli_modules_import_nothing_heavy():
    code = ("import sys; import peaktrade.cli.risk, peaktrade.cli.policy, peaktrade.cli.stage, "
            "peaktrade.cli.approvals, peaktrade.cli.killswitch; "
            "heavy = [m for m in ('jsonschema', 'jinja2', 'yaml', 'pandas', 'pyarrow', 'ccxt', 'filelock') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
