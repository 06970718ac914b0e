"""Records a journal cannot be rewritten against silently (DESIGN 4, 11; issue 9 item 6).

The chain and ``journal.head`` catch an edited record, but whoever can write ``var/plays/`` can rebuild
the whole chain, cut records off and rewrite the head, or append records after the end. Two records
outside the journal close that:

- the **desk state** keeps each play's row (``DeskStore.record_play``): written when the play starts,
  after every finished step, when it is resumed and when it ends, with the number of records and the head
  hash at that moment (past it, a crashed play's journal can hold only the one step that was running);
  the one use of every approval is there too (``bind_approval``);
- ``journal.sig`` holds a signature over ``{play_id, seq, head}`` made when the play ends: with the
  operator's SSH key when they proved who they are (a play that bound an approval or acted live), else
  an HMAC with the desk key, a file kept outside ``var/`` (``$PEAKTRADE_DESK_KEY``, else
  ``$XDG_CONFIG_HOME/peaktrade/desk.key``, else ``~/.config/peaktrade/desk.key``; created 0600).

``verify_play`` checks the chain, the signature and the cross-records and names what it finds: a rebuilt
chain, a truncated or extended journal, an edited approval record. ``--resume`` refuses a play that
fails it. What it cannot stop: someone who can write the desk state *and* holds the signing key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from peaktrade.artifacts.s3 import configured, plays_dir_anywhere
from peaktrade.clock import SYSTEM_CLOCK, utc_iso
from peaktrade.desk import open_desk
from peaktrade.desk.store import PlayRow
from peaktrade.errors import PeakTradeError
from peaktrade.hashing import canonical_json
from peaktrade.playbook.journal import JOURNAL, journal_path, read_records, verify_journal
from peaktrade.root import Root

SIG = "journal.sig"


def desk_key_path() -> Path:
    explicit = os.environ.get("PEAKTRADE_DESK_KEY")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "peaktrade" / "desk.key"


def desk_key(*, create: bool) -> bytes | None:
    path = desk_key_path()
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError):
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return desk_key(create=False)


def _payload(play_id: str, seq: int, head: str) -> bytes:
    return canonical_json({"purpose": "journal head", "play_id": play_id, "seq": seq, "head": head}).encode()


def _hmac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def record_progress(root: Root, play_id: str, records: list[dict[str, Any]], *, outcome: str | None = None,
                    finished_at: str | None = None) -> PlayRow:
    """Write the play's row in the desk state: record count and head hash as of now (and the outcome)."""
    started = records[0] if records else {}
    row = PlayRow(play_id, str(started.get("playbook", "")), str(started.get("operator", "")),
                  str(started.get("ts", "")), outcome, finished_at,
                  records[-1]["hash"] if records else None, len(records))
    try:
        open_desk(root).record_play(row)
    except PeakTradeError:
        # the emergency path must run with a broken desk state (runbook 5.3): the play goes on, and
        # `plays verify` later reports the missing desk record instead of the play being refused now
        pass
    return row


def record_step(root: Root, row: PlayRow, seq: int, head: str) -> PlayRow:
    """The play's ``row`` (from ``record_progress`` at its start or resume) moved to the journal's record count
    and head after a step: taken from the open journal's counters, not by reading the journal again."""
    row = replace(row, records=seq, head=head)
    try:
        open_desk(root).record_play(row)
    except PeakTradeError:
        pass  # as in record_progress: the play goes on, `plays verify` reports what the desk lacks
    return row


def seal(root: Root, play_id: str, *, outcome: str, operator: str, identity: dict[str, Any] | None,
         key: str | None, clock: Any = None) -> dict[str, Any]:
    """At the end of a play: record outcome and head in the desk state, and sign the head (journal.sig)."""
    from peaktrade.fsutil import atomic_write_text

    path = journal_path(root.plays_dir, play_id)
    records = read_records(path)
    last = records[-1]
    seq, head = len(records), last["hash"]
    data = _payload(play_id, seq, str(head))
    sig: dict[str, Any] = {"play_id": play_id, "seq": seq, "head": head,
                           "signed_at": utc_iso((clock or SYSTEM_CLOCK).now())}
    proof = None
    if identity is not None:
        from peaktrade.policy.identity import prove

        try:
            proof = prove(root, operator, data, key, what="operator")
        except PeakTradeError as exc:  # e.g. the agent went away: the head is still sealed, with the desk key
            sig["ssh_failed"] = exc.message
    if proof is not None:
        sig.update(method="ssh", signer=proof.name, fingerprint=proof.fingerprint, signature=proof.signature)
    else:
        desk = desk_key(create=True) or b""
        sig.update(method="hmac", key_id=hashlib.sha256(desk).hexdigest()[:16], signature=_hmac(desk, data))
    atomic_write_text(path.parent / SIG, json.dumps(sig, indent=2, sort_keys=True) + "\n")
    # the outcome reaches the desk state after the signature is on disk: an agent copies a play to object
    # storage once its outcome is recorded, and a copy taken between the two would lack journal.sig
    record_progress(root, play_id, records, outcome=outcome, finished_at=str(last.get("ts", "")))
    return sig


@dataclass
class PlayCheck:
    play_id: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # rebuilt | truncated | extended | approval_edited | ...
    signature: str = "absent"  # valid (method, signer) | INVALID | absent | n/a

    def add(self, finding: str, problem: str) -> None:
        self.ok = False
        if finding not in self.findings:
            self.findings.append(finding)
        self.problems.append(problem)


def signature_status(root: Root, play_id: str, seq: int, head: str, *, plays_dir: Path | None = None) -> str:
    """'valid (ssh, alice SHA256:..)' / 'valid (desk hmac)' / 'absent' / 'INVALID: why'."""
    sig_path = journal_path(plays_dir or root.plays_dir, play_id).parent / SIG
    try:
        sig = json.loads(sig_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "absent"
    except (OSError, ValueError):
        return "INVALID: journal.sig is unreadable"
    if not isinstance(sig, dict):
        return "INVALID: journal.sig is not a signature record"
    if sig.get("seq") != seq or sig.get("head") != head or sig.get("play_id") != play_id:
        return f"INVALID: it signs record {sig.get('seq')} {str(sig.get('head'))[:12]}, not {seq} {head[:12]}"
    data = _payload(play_id, seq, head)
    if sig.get("method") == "ssh":
        from peaktrade.policy.identity import check

        fp = check(root, str(sig.get("signer")), data, sig.get("signature"))
        return f"valid (ssh, {sig.get('signer')} {fp})" if fp else f"INVALID: not {sig.get('signer')}'s signature"
    if sig.get("method") == "hmac":
        key = desk_key(create=False)
        if key is None:
            return f"INVALID: the desk key {desk_key_path()} is missing"
        ok = hmac.compare_digest(_hmac(key, data), str(sig.get("signature")))
        return "valid (desk hmac)" if ok else "INVALID: the desk HMAC does not match"
    return "INVALID: unknown signature method"


def verify_play(root: Root, play_id: str, *, plays_dir: Path | None = None) -> PlayCheck:
    """Chain, signature and cross-records (desk play row, approval use) of one play. ``plays_dir``: the folder
    holding ``<play_id>/`` when it is not this host's ``var/plays/`` (the verified copy of a play of another
    host, fetched into ``var/artifacts/``)."""
    out = PlayCheck(play_id)
    path = journal_path(plays_dir or root.plays_dir, play_id)
    chain = verify_journal(path)
    records = chain.records
    for p in chain.problems:
        out.add("chain", p)
    try:
        desk = open_desk(root)
        row = desk.get_play(play_id)
    except PeakTradeError as exc:
        out.add("desk", f"the desk state cannot be read: {exc.message}")
        return out
    if row is None:
        out.add("unrecorded", f"the desk state has no record of play {play_id}: the journal was made or "
                              "copied outside a play")
        return out
    n = len(records)
    if row.records > n:
        out.add("truncated", f"truncated: the desk state recorded {row.records} records (head "
                             f"{str(row.head)[:12]}), the journal has {n}")
    elif row.records and records[row.records - 1].get("hash") != row.head:
        out.add("rebuilt", f"rebuilt: record {row.records} does not hash to the head the desk state recorded "
                           f"({str(row.head)[:12]}): the chain was rewritten")
    elif n > row.records and row.outcome is not None:
        out.add("extended", f"extended: {n - row.records} record(s) after the end of the play recorded in the "
                            f"desk state ({row.outcome} at record {row.records})")
    elif n > row.records and any(r.get("type") == "play_finished" for r in records[row.records:]):
        out.add("extended", "extended: the journal records an end of the play the desk state never saw")
    elif n > row.records and not _one_running_step(records[row.records:]):
        out.add("extended", f"extended: {n - row.records} record(s) after the last step the desk state recorded "
                            f"(record {row.records}), more than the one step that was running when the play stopped")
    if row.outcome is not None:
        out.signature = signature_status(root, play_id, row.records, str(row.head), plays_dir=plays_dir)
        if not out.signature.startswith("valid"):
            out.add("signature", f"journal head signature {out.signature}")
    else:
        out.signature = "n/a (play not ended)"
    _check_approvals(root, desk, play_id, records, out)
    return out


def _one_running_step(trailing: list[dict[str, Any]]) -> bool:
    """Whether the records after the desk state's last progress can be the one step that was running when the
    play's process died: the desk state is written after every finished step, so at most one step finished
    since, and then as the last record (the process died between the journal and the desk write)."""
    finished = [i for i, r in enumerate(trailing) if r.get("type") == "step_finished"]
    return not finished or finished == [len(trailing) - 1]


def _check_approvals(root: Root, desk: Any, play_id: str, records: list[dict[str, Any]], out: PlayCheck) -> None:
    from peaktrade.policy.approvals import approvals_dir

    ids: set[str] = set()
    for rec in records:
        if rec.get("type") == "approval_bound" and isinstance(rec.get("request_id"), str):
            ids.add(rec["request_id"])
        for value in (rec.get("approvals") or {}).values() if isinstance(rec.get("approvals"), dict) else []:
            if isinstance(value, dict) and isinstance(value.get("request_id"), str):
                ids.add(value["request_id"])
    for p in sorted(approvals_dir(root).glob("*.json")):
        try:
            used = (json.loads(p.read_text(encoding="utf-8")) or {}).get("used_by")
        except (OSError, ValueError):
            continue
        if (isinstance(used, dict) and used.get("by") == play_id) or p.stem in ids:
            use = desk.approval_use(p.stem)
            if p.stem in ids and (use is None or use.get("by") != play_id):
                out.add("approval_use", f"approval {p.stem}: this journal used it, the desk state says "
                                        f"{'unused' if use is None else 'used by ' + str(use.get('by'))}")
            if (used or None) != (use or None):
                out.add("approval_edited", f"approval record {root.rel(p)} edited: used_by says {used}, "
                                           f"the desk state says {use}")


def verify_anywhere(root: Root, play_id: str) -> PlayCheck:
    """``verify_play`` of a play of this host, or of another host's from its copy in object storage
    (``artifacts.s3.plays_dir_anywhere``: fetched, its hashes checked against the desk state). A copy that cannot
    be had or differs is a failed check saying the record could not be verified, never an ok."""
    try:
        plays_dir = plays_dir_anywhere(root, None, play_id)
    except PeakTradeError as exc:
        out = PlayCheck(play_id, signature="n/a (not verified)")
        out.add("unverifiable", f"the record of play {play_id} could not be verified: {exc.message}")
        return out
    return verify_play(root, play_id, plays_dir=None if plays_dir == root.plays_dir else plays_dir)


def verify_all(root: Root) -> list[PlayCheck]:
    """Every play of this host; with object storage configured, the plays of the other hosts the desk state
    lists too (from their verified copies)."""
    ids = {p.parent.name for p in root.plays_dir.glob(f"*/{JOURNAL}")}
    if configured(root) is not None:
        try:
            # a play still running on its host has no copy yet: it is verified there, or here once it ended
            ids |= {row.play_id for row in open_desk(root).list_plays(limit=1000) if row.outcome is not None}
        except PeakTradeError as exc:
            out = PlayCheck("(desk state)", signature="n/a")
            out.add("desk", f"the plays of the other hosts could not be listed: {exc.message}")
            return [verify_play(root, i) for i in sorted(ids, reverse=True)] + [out]
    return [verify_anywhere(root, i) for i in sorted(ids, reverse=True)]
