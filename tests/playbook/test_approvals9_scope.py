"""Issue 9, item 1: an approval opens the live gate only for the frame it was signed for.

Real SSH-signed flows through the CLI: the signed playbook's live step runs inside its own frame, and
no wrapper shape (sub-run first, last, nested twice, on_failure: continue, a sibling run: step, a
sibling sub-run) ever gets a live step of its own past the gate on that approval."""

from __future__ import annotations

import pytest
from approvals9_helpers import make_keys, open_live, play, signed, with_people
from pb_helpers import PY, finished, journal, write_playbook

SIGNED = """
    params:
      qty: {type: number, default: 1}
    guards:
      - approval: live_activation
      - live_gate: true
    steps:
      - {id: trade, title: The signed live step, effect: act, action: test.live_sensitive, with: {stage: live}}
    """
OWN_LIVE = "{id: own, title: The wrapper's own live step, effect: act, action: test.touch, " \
           "with: {path: wrapper-traded, mode: live}}"
SUB = "{id: sub, title: The signed playbook, effect: act, playbook: signed, on_failure: continue}"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_keys(tmp_path_factory.mktemp("keys9"))


@pytest.fixture
def lroot(root, keys):
    with_people(root, keys)
    open_live(root)
    write_playbook(root, "signed", SIGNED)
    write_playbook(root, "middle", """
        steps:
          - {id: inner, title: Inner, effect: act, playbook: signed}
        """)
    write_playbook(root, "other", f"""
        steps:
          - {OWN_LIVE}
        """)
    return root


SHAPES = {
    "sub-run first": f"""
        steps:
          - {SUB}
          - {OWN_LIVE}
        """,
    "sub-run last": f"""
        steps:
          - {{id: own, title: Own, effect: act, action: test.touch, with: {{path: wrapper-traded, mode: live}},
              on_failure: continue}}
          - {SUB}
        """,
    "nested twice": f"""
        steps:
          - {{id: mid, title: Middle, effect: act, playbook: middle, on_failure: continue}}
          - {OWN_LIVE}
        """,
    "sibling run step": f"""
        steps:
          - {SUB}
          - {{id: cmd, title: A command, effect: act, run: ["{PY}", "-c", "open('wrapper-traded', 'w')"]}}
        """,
    "sibling sub-run": f"""
        steps:
          - {SUB}
          - {{id: sib, title: A sibling playbook, effect: act, playbook: other}}
        """,
    "wrapper guard borrows the approval": f"""
        guards:
          - live_gate: true
        steps:
          - {SUB}
          - {OWN_LIVE}
        """,
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_wrapper_shape_places_an_unsigned_live_order(lroot, keys, capsys, shape):
    write_playbook(lroot, "wrapper", SHAPES[shape])
    rid = signed(lroot, keys, capsys, "signed")
    code, out = play(lroot, capsys, "wrapper", "--operator", "bob")
    assert code != 0, out
    assert not (lroot.path / "wrapper-traded").exists(), out  # never an unsigned live order
    recs = journal(lroot)
    steps = finished(recs)
    blocked = [s["summary"] for s in steps.values() if s["status"] == "blocked"]
    blocked += [g["message"] for g in recs if g["type"] == "guard_evaluated" and not g["ok"]]
    assert blocked and all("no valid live_activation approval" in b for b in blocked), out
    if shape not in ("wrapper guard borrows the approval", "sub-run last"):  # (a blocked step ends the play)
        # the signed playbook itself ran inside its own frame, on its own approval
        key = "mid/inner/trade" if shape == "nested twice" else "sub/trade"
        assert steps[key]["status"] == "succeeded", out
        assert (lroot.path / "traded").exists()
        bound = [r for r in recs if r["type"] == "approval_bound"]
        assert [(r["frame"], r["request_id"]) for r in bound] == [(key.rsplit("/", 1)[0], rid)]


def test_the_signed_playbook_run_alone_opens_its_own_gate(lroot, keys, capsys):
    signed(lroot, keys, capsys, "signed")
    code, out = play(lroot, capsys, "signed", "--operator", "bob")
    assert code == 0, out
    assert (lroot.path / "traded").exists()
    ids = [r for r in journal(lroot) if r["type"] == "operator_identified"]
    assert ids and ids[0]["operator"] == "bob" and ids[0]["fingerprint"].startswith("SHA256:")


def test_a_sub_run_with_other_params_than_signed_is_refused(lroot, keys, capsys):
    write_playbook(lroot, "wrapper", """
        steps:
          - {id: sub, title: Signed, effect: act, playbook: signed, with: {qty: 5}}
        """)
    signed(lroot, keys, capsys, "signed")  # signed for qty=1
    code, out = play(lroot, capsys, "wrapper", "--operator", "bob")
    assert code == 3 and "signed for params" in out
    assert not (lroot.path / "traded").exists()


def test_run_steps_are_live_whenever_the_mode_is_live(lroot, keys, capsys):
    write_playbook(lroot, "cmd", f"""
        steps:
          - {{id: cmd, title: Harmless looking, effect: read, run: ["{PY}", "-c", "print('hi')"]}}
        """)
    code, out = play(lroot, capsys, "cmd", "--operator", "bob")
    assert code == 3
    summary = finished(journal(lroot))["cmd"]["summary"]
    assert "live because a run: step while environment.mode is live" in summary
