"""Issue 9, item 6: records that cannot be rewritten silently.

A play that bound an approval ends with its head signed by the operator's key, its row (outcome, record
count, head) in the desk state, and the head hash in operations.log. ``plays verify`` and ``--resume``
detect a rebuilt chain, a truncated or an extended journal and an edited approval record."""

from __future__ import annotations

import json

import pytest
from approvals9_helpers import make_keys, open_live, play, signed, with_people
from pb_helpers import cli, journal, write_playbook

from peaktrade.playbook.journal import GENESIS, HEAD, record_hash
from peaktrade.policy.approvals import approvals_dir

# the second step fails on the first attempt and succeeds on a resume: a resumable play
PLAYBOOK = """
    guards:
      - approval: live_activation
    steps:
      - {id: first, title: First, effect: act, action: test.touch, with: {path: first}}
      - {id: second, title: Second, effect: read, action: test.flaky, with: {succeed_on: 2, counter: flaky}}
    """


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("keys9j"))


@pytest.fixture
def failed_play(root, keys, capsys):
    """(root, play id, request id) of a failed, resumable play that bound a signed approval."""
    with_people(root, keys)
    open_live(root)
    write_playbook(root, "bound", PLAYBOOK)
    rid = signed(root, keys, capsys, "bound")
    code, out = play(root, capsys, "bound", "--operator", "bob")
    assert code == 1, out
    return root, journal(root)[0]["play_id"], rid


def _rewrite(root, play_id: str, records: list[dict]) -> None:
    """What an attacker with write access to var/plays does: a whole new chain and a matching head."""
    prev = GENESIS
    for i, rec in enumerate(records, start=1):
        rec["seq"], rec["prev_hash"] = i, prev
        rec["hash"] = record_hash(rec)
        prev = rec["hash"]
    d = root.plays_dir / play_id
    (d / "journal.jsonl").write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    (d / HEAD).write_text(f"{len(records):012d} {prev}\n" if records else "")


def _verify(root, capsys, play_id: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = cli(root, "plays", "verify", play_id, "--json")
    return code, json.loads(capsys.readouterr().out)[0]


def _resume_refused(root, capsys, play_id: str, finding: str) -> None:
    code, out = play(root, capsys, "bound", "--operator", "bob", "--resume", play_id)
    assert code == 3 and f"cannot resume play {play_id}: its journal fails verification" in out and finding in out


def test_an_untouched_play_verifies_and_resumes(failed_play, capsys):
    root, play_id, _ = failed_play
    code, res = _verify(root, capsys, play_id)
    assert code == 0 and res["ok"] and res["signature"].startswith("valid (ssh, bob SHA256:")
    text = root.operations_log.read_text()
    head = journal(root, play_id)[-1]["hash"]
    assert f"play={play_id}" in text and f"head={head}" in text
    checklist = next(root.checklists_dir.glob(f"*{play_id}*.md")).read_text()
    assert head in checklist and "head seal: valid (ssh, bob SHA256:" in checklist
    assert "signed by alice (owner) key `SHA256:" in checklist  # request, signers, roles, fingerprints
    code, out = play(root, capsys, "bound", "--operator", "bob", "--resume", play_id)
    assert code == 0, out
    assert _verify(root, capsys, play_id)[0] == 0


def test_truncation_is_detected_and_refused(failed_play, capsys):
    root, play_id, _ = failed_play
    _rewrite(root, play_id, journal(root, play_id)[:-3])  # cut the end off, head rewritten to match
    code, res = _verify(root, capsys, play_id)
    assert code == 1 and res["findings"] == ["truncated"]
    _resume_refused(root, capsys, play_id, "truncated")
    capsys.readouterr()
    assert cli(root, "plays", "show", play_id) == 1  # show no longer says the journal is fine
    assert "journal integrity: TAMPERED (truncated)" in capsys.readouterr().out


def test_a_rebuilt_chain_is_detected_and_refused(failed_play, capsys):
    root, play_id, _ = failed_play
    records = journal(root, play_id)
    finished = [r for r in records if r["type"] == "step_finished" and r["step"] == "second"][0]
    finished["status"], finished["summary"] = "succeeded", "call 2"
    _rewrite(root, play_id, records)
    code, res = _verify(root, capsys, play_id)
    assert code == 1 and "rebuilt" in res["findings"]
    _resume_refused(root, capsys, play_id, "rebuilt")
    capsys.readouterr()
    assert cli(root, "plays", "list", "--json") == 0  # the list says so too, not only show and verify
    [row] = [r for r in json.loads(capsys.readouterr().out) if r["play_id"] == play_id]
    assert row["integrity"].startswith("TAMPERED (") and "rebuilt" in row["integrity"]


def test_an_extended_journal_is_detected_and_refused(failed_play, capsys):
    root, play_id, _ = failed_play
    records = journal(root, play_id)
    forged = dict(records[-1], type="play_finished", outcome="succeeded", reason=None)
    _rewrite(root, play_id, [*records, forged])  # a lagging head would be accepted by the chain alone
    code, res = _verify(root, capsys, play_id)
    assert code == 1 and res["findings"] == ["extended"]
    _resume_refused(root, capsys, play_id, "extended")


def test_an_edited_approval_record_is_detected_and_refused(failed_play, capsys):
    root, play_id, rid = failed_play
    path = approvals_dir(root) / f"{rid}.json"
    doc = json.loads(path.read_text())
    assert doc["used_by"]["by"] == play_id
    doc["used_by"] = None
    path.write_text(json.dumps(doc))
    code, res = _verify(root, capsys, play_id)
    assert code == 1 and res["findings"] == ["approval_edited"]
    assert any(f"approval record var/approvals/{rid}.json edited" in p for p in res["problems"])
    _resume_refused(root, capsys, play_id, "approval_edited")
    capsys.readouterr()
    assert cli(root, "plays", "verify") == 1  # every play, too
    assert "FAILED: approval_edited" in capsys.readouterr().out


def test_a_signature_over_another_head_is_refused(failed_play, capsys):
    root, play_id, _ = failed_play
    sig = root.plays_dir / play_id / "journal.sig"
    doc = json.loads(sig.read_text())
    doc["head"] = "0" * 64
    sig.write_text(json.dumps(doc))
    code, res = _verify(root, capsys, play_id)
    assert code == 1 and res["findings"] == ["signature"] and res["signature"].startswith("INVALID")


def test_without_an_identity_the_head_is_signed_with_the_desk_key(root, capsys):
    write_playbook(root, "plain", """
        steps:
          - {id: hi, title: Hi, effect: read, action: test.echo, with: {message: hi}}
        """)
    code, out = play(root, capsys, "plain")
    assert code == 0, out
    play_id = journal(root)[0]["play_id"]
    code, res = _verify(root, capsys, play_id)
    assert code == 0 and res["signature"] == "valid (desk hmac)"
    from peaktrade.playbook.seal import desk_key_path

    assert not desk_key_path().is_relative_to(root.path)  # kept outside var/ (here: the test's config dir)
    assert oct(desk_key_path().stat().st_mode & 0o777) == "0o600"
