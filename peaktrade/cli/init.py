"""`peaktrade init DIR [--force]`: a new deployment root with the shipped defaults (DESIGN 2)."""

from __future__ import annotations

from pathlib import Path

import typer

SHIPPED = ("config", "playbooks", "policies", "schemas")
CREATED = ("logs", "reports/checklists", "reports/incidents", "var", "data", "live_runs")
# The root is the desk's git repo (DESIGN 2): runtime state stays out of it; the records the runbooks
# require (operations.log, checklists, incident reports) and the desk's files stay in.
GITIGNORE = """# written by `peaktrade init`: runtime state, not desk configuration
var/
live_runs/
data/
backups/
logs/*
!logs/operations.log
"""


def shipped_files(source: Path) -> list[Path]:
    """The default files, relative to ``source`` (caches and editor droppings left out)."""
    files = []
    for folder in SHIPPED:
        for p in sorted((source / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."):
                files.append(p.relative_to(source))
    return files


def _same(a: Path, b: Path) -> bool:
    try:
        return a.is_file() and a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def copy_defaults(target: Path, *, force: bool = False) -> list[Path]:
    """Copy the shipped defaults into ``target``; refuse (UsageError) to overwrite unless ``force``."""
    import shutil

    from peaktrade.errors import UsageError
    from peaktrade.root import defaults_dir

    source = defaults_dir()
    files = shipped_files(source)
    if not files:
        raise UsageError(f"no shipped defaults found in {source} (broken installation?)")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a directory")
    # a file identical to the shipped one is no conflict: re-running init on a current root is harmless
    conflicts = [f for f in files if (target / f).exists() and not _same(target / f, source / f)]
    if conflicts and not force:
        raise UsageError(
            f"{target} already has {len(conflicts)} of the shipped files, changed; nothing was changed "
            "(use --force to overwrite them)",
            details=[str(f) for f in conflicts])
    for rel in files:
        dest = target / rel
        if dest.exists() and _same(dest, source / rel):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, dest)
    for folder in CREATED:
        (target / folder).mkdir(parents=True, exist_ok=True)
    ignore = target / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
    _create_desk(target)
    return files


def _create_desk(target: Path) -> None:
    """The desk state with its kill-switch row (released); an existing one is kept as it is."""
    from peaktrade.desk import open_desk
    from peaktrade.root import Root

    open_desk(Root(target.resolve()))


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        directory: str = typer.Argument(..., metavar="DIR", help="The deployment root to create or fill."),
        force: bool = typer.Option(False, "--force", help="Overwrite shipped files that already exist."),
    ) -> None:
        """Create a deployment root: config, playbooks, policies, schemas, and the working folders."""
        target = Path(directory).expanduser()
        written = copy_defaults(target, force=force)
        print(f"Initialised {target.resolve()} ({len(written)} files).")
        print("Next steps:")
        print(f"  cd {directory}")
        print("  peaktrade validate                # playbooks, policies and config are valid")
        print("  peaktrade playbooks list          # what can be run")
        print("  peaktrade play health-check --yes # the daily health check, offline")
