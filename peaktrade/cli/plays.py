"""``peaktrade plays list|show``: read play journals (integrity checked)."""

from __future__ import annotations

import typer

plays_app = typer.Typer(help="Past and running plays, read from their journals.", no_args_is_help=True)


def _summary(path):  # noqa: ANN001, ANN202
    from peaktrade.playbook.journal import verify_journal
    from peaktrade.playbook.render import summarize

    check = verify_journal(path)
    view = summarize(check.records)
    started = view["play"]
    return check, view, {
        "play_id": path.parent.name,
        "playbook": started.get("playbook"),
        "operator": started.get("operator"),
        "started": started.get("ts"),
        "finished": view["finished"] or None,
        "dry_run": bool((started.get("flags") or {}).get("dry_run")),
        "outcome": view["outcome"],
        "integrity": "ok" if check.ok else "TAMPERED",
    }


@plays_app.command("list")
def list_cmd(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    limit: int = typer.Option(20, "--limit", min=1, help="Most recent N plays."),
) -> None:
    """List plays, most recent first."""
    from peaktrade.cli import _common
    from peaktrade.playbook.journal import JOURNAL

    root = _common.root()
    paths = sorted(root.plays_dir.glob(f"*/{JOURNAL}"), key=lambda p: p.parent.name, reverse=True)[:limit]
    rows = [_summary(p)[2] for p in paths]
    if json_out:
        _common.print_json(rows)
        return
    if not rows:
        print("no plays yet")
    for r in rows:
        flag = " (dry-run)" if r["dry_run"] else ""
        # a journal emptied or overwritten by hand has no play_started record: dashes, not a crash
        print(f"{r['play_id']}  {r['playbook'] or '-':<28} {r['outcome'] or '-':<12} {r['operator'] or '-':<12} "
              f"{r['started'] or '-'}  {r['integrity']}{flag}")


@plays_app.command("show")
def show_cmd(
    play_id: str = typer.Argument(..., metavar="PLAY_ID"),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Steps, statuses and journal integrity of one play (exit 1 if the journal is TAMPERED)."""
    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.playbook.journal import journal_path

    root = _common.root()
    path = journal_path(root.plays_dir, play_id)
    if not path.is_file():
        raise UsageError(f"no play {play_id!r} (no {root.rel(path)})")
    check, view, row = _summary(path)
    steps = [{k: s.get(k) for k in ("step", "title", "kind", "effect", "status", "who", "when", "duration",
                                    "summary", "answer", "note")} for s in view["steps"]]
    if json_out:
        _common.print_json({**row, "reason": view["reason"] or None, "steps": steps,
                            "approvals": view["approvals"], "problems": check.problems})
    else:
        print(f"play {row['play_id']}: {row['playbook'] or '-'} by {row['operator'] or '-'}, "
              f"started {row['started'] or '-'}")
        print(f"outcome: {row['outcome']}" + (f" - {view['reason']}" if view["reason"] else ""))
        for s in steps:
            print(f"  {s['status']:<10} {s['step']}  {s['title']}" + (f" - {s['summary']}" if s["summary"] else ""))
        print(f"journal integrity: {row['integrity']} ({root.rel(path)})")
        for p in check.problems:
            print(f"  {p}")
    if not check.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(plays_app, name="plays")
