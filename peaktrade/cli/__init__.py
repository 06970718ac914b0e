"""The CLI: thin wiring. Every module of this package registers its commands on the one app.

Start-up must stay fast (``peaktrade --help`` ≤ 150 ms): command modules import only typer and the
standard library at module level; everything else is imported inside the command functions.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback
from pathlib import Path

import typer

from peaktrade.cli import _common, _fastparams, _lazy
from peaktrade.errors import ExitCode, PeakTradeError

app = typer.Typer(
    name="peaktrade",
    help="PeakTrade: executable runbooks, enforced risk policies, and the trading runtime they operate.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _main(
    root: str = typer.Option(
        None, "--root", metavar="DIR",
        help="Deployment root (default: $PEAKTRADE_ROOT, else the current directory).",
    ),
) -> None:
    _common.STATE.root_arg = root


def _register_all() -> None:
    import peaktrade.cli as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            module = importlib.import_module(f"peaktrade.cli.{mod.name}")
            module.register(app)


def _click_exceptions():
    try:
        from typer._click import exceptions  # typer >= 0.17 vendors click
    except ImportError:  # pragma: no cover
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _report_bug(exc: BaseException) -> int:
    """An unexpected exception is a bug: one line for the operator, the traceback to a file."""
    text = "".join(traceback.format_exception(exc))
    target = Path(os.environ.get("TMPDIR", "/tmp")) / "peaktrade-crash.log"
    try:
        from peaktrade.redact import redact_text

        target.write_text(redact_text(text), encoding="utf-8")
        where = f"; details in {target}"
    except OSError:
        where = ""
    print(f"peaktrade: internal error: {type(exc).__name__}: {exc}{where}. Please report this.", file=sys.stderr)
    return ExitCode.FAILED


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    exceptions = _click_exceptions()
    _fastparams.install()  # plain parameters without importing pydantic (start-up bar, DESIGN 10)
    try:
        # only the commands this invocation needs are built (start-up bar); _register_all is the fallback
        _lazy.register_for(app, sys.argv[1:] if argv is None else argv, lambda: _register_all())
        rv = app(args=argv, prog_name="peaktrade", standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except PeakTradeError as exc:
        _common.print_error(exc)
        return int(exc.exit_code)
    except exceptions.ClickException as exc:  # usage errors: bad option, missing argument, …
        exc.show()
        return ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort):
        print("\npeaktrade: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a report
        return _report_bug(exc)
