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


def _other_hosts(root, limit: int) -> list[dict]:  # noqa: ANN001 - Root
    """On a desk on several hosts: the plays of the desk's play index whose journal is not on this host
    (integrity not checked here: `plays show ID` / `plays verify ID` read and verify their copy)."""
    from peaktrade.desk import open_desk
    from peaktrade.desk.backend import cluster_url

    if cluster_url(root) is None:
        return []
    return [{"play_id": p.play_id, "playbook": p.playbook, "operator": p.operator, "started": p.started_at,
             "finished": p.finished_at, "dry_run": False, "outcome": p.outcome or "running",
             "integrity": "elsewhere (plays show/verify reads its copy)"}
            for p in open_desk(root).list_plays(limit=limit) if not (root.plays_dir / p.play_id).is_dir()]


@plays_app.command("list")
def list_cmd(
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    limit: int = typer.Option(20, "--limit", min=1, help="Most recent N plays."),
) -> None:
    """List plays, most recent first, with each journal's integrity: chain, head seal and the desk state's
    records (as `plays verify`)."""
    from peaktrade.cli import _common
    from peaktrade.playbook.journal import JOURNAL
    from peaktrade.playbook.seal import verify_play

    root = _common.root()
    rows = [_summary(p)[2] for p in root.plays_dir.glob(f"*/{JOURNAL}")] + _other_hosts(root, limit)
    # newest first by the journal's start time (two plays in one second: their ids' random part decides
    # nothing); a journal without a start record sorts last
    rows = sorted(rows, key=lambda r: (r["started"] or "", r["play_id"]), reverse=True)[:limit]
    for r in rows:  # the chain alone accepts a rebuilt, cut or extended journal: the seal and desk records decide
        if r["integrity"] == "ok":
            sealed = verify_play(root, r["play_id"])
            if not sealed.ok:
                r["integrity"] = f"TAMPERED ({', '.join(sealed.findings)})"
    if json_out:
        _common.print_json(rows)
        return
    if not rows:
        print("no plays yet")
        return
    print(f"{'PLAY':<22}  {'PLAYBOOK':<28} {'OUTCOME':<12} {'OPERATOR':<12} {'STARTED':<27}  JOURNAL")
    for r in rows:
        flag = " (dry-run)" if r["dry_run"] else ""
        # a journal emptied or overwritten by hand has no play_started record: dashes, not a crash
        print(f"{r['play_id']:<22}  {r['playbook'] or '-':<28} {r['outcome'] or '-':<12} {r['operator'] or '-':<12} "
              f"{r['started'] or '-':<27}  {r['integrity']}{flag}")


@plays_app.command("show")
def show_cmd(
    play_id: str = typer.Argument(..., metavar="PLAY_ID"),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Steps, statuses and journal integrity of one play: chain, head seal and the desk state's records
    (exit 1 if the journal is TAMPERED)."""
    from peaktrade.artifacts.s3 import plays_dir_anywhere
    from peaktrade.cli import _common
    from peaktrade.desk.backend import cluster_url
    from peaktrade.errors import UsageError
    from peaktrade.playbook.journal import journal_path
    from peaktrade.playbook.seal import verify_play

    root = _common.root()
    path = journal_path(root.plays_dir, play_id)
    folder = root.plays_dir
    if not path.is_file() and cluster_url(root) is not None:
        # a play of another host: its copy from object storage, verified against the desk state's hashes
        folder = plays_dir_anywhere(root, None, play_id)
        path = journal_path(folder, play_id)
    if not path.is_file():
        raise UsageError(f"no play {play_id!r} (no {root.rel(path)})")
    check, view, row = _summary(path)
    # the chain alone accepts a rebuilt, cut or extended journal: the seal and the desk records decide
    sealed = verify_play(root, play_id, plays_dir=folder)
    if check.ok and not sealed.ok:
        check.ok, check.problems = False, sealed.problems
        row["integrity"] = f"TAMPERED ({', '.join(sealed.findings)})"
    row["seal"] = sealed.signature
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
        print(f"journal integrity: {row['integrity']} ({root.rel(path)}); head seal: {sealed.signature}")
        for p in check.problems:
            print(f"  {p}")
    if not check.ok:
        raise typer.Exit(1)


@plays_app.command("verify")
def verify_cmd(
    play_id: str = typer.Argument(None, metavar="[PLAY_ID]", help="One play (default: every play)."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check chain, head signature and the desk state's records (exit 1 on any finding).

    Names what it finds: a rebuilt chain, a truncated or extended journal, a missing or invalid head
    signature, an edited approval record. A play of another host is read from its copy in object storage
    ([artifacts] url), checked against the hashes in the desk state; a copy that is missing or differs:
    FAILED (unverifiable)."""
    from peaktrade.artifacts.s3 import configured
    from peaktrade.cli import _common
    from peaktrade.errors import UsageError
    from peaktrade.playbook.journal import journal_path
    from peaktrade.playbook.seal import verify_all, verify_anywhere

    root = _common.root()
    if play_id is not None:
        # a play of another host: its copy in object storage, verified against the desk state's hashes
        if not journal_path(root.plays_dir, play_id).is_file() and configured(root) is None:
            raise UsageError(f"no play {play_id!r} (no {root.rel(journal_path(root.plays_dir, play_id))})")
        checks = [verify_anywhere(root, play_id)]
    else:
        checks = verify_all(root)
    if json_out:
        _common.print_json([{"play_id": c.play_id, "ok": c.ok, "findings": c.findings, "signature": c.signature,
                             "problems": c.problems} for c in checks])
    else:
        if not checks:
            print("no plays yet")
        for c in checks:
            print(f"{c.play_id}  {'ok' if c.ok else 'FAILED: ' + ', '.join(c.findings)}  signature {c.signature}")
            for p in c.problems:
                print(f"  {p}")
    if any(not c.ok for c in checks):
        raise typer.Exit(1)


@plays_app.command("countersign")
def countersign_cmd(
    play_id: str = typer.Argument(..., metavar="PLAY_ID"),
    step: str = typer.Option(..., "--step", help="The waiting persons: 2 step (its key, e.g. both-present)."),
    as_name: str = typer.Option(..., "--as", help="You: the second person, a name of policies/roles.yaml."),
    key: str = typer.Option(None, "--key", envvar="PEAKTRADE_KEY", help="Your private SSH key (default: ssh-agent)."),
) -> None:
    """Answer a persons: 2 step of a waiting play with your signature (then the operator resumes the play)."""
    from peaktrade.cli import _common
    from peaktrade.playbook.countersign import for_cli

    done = for_cli(_common.root(), play_id, step, name=as_name, key=key)
    print(f"{done['name']} signed step {step} of play {play_id} with key {done['fingerprint']}: "
          f"\"{done['statement']['text']}\"")


def register(app: typer.Typer) -> None:
    app.add_typer(plays_app, name="plays")
