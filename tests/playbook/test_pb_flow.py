"""when / retries / on_failure, driven through the interpreter API with an injected clock."""

from __future__ import annotations

from pb_helpers import finished, journal, write_playbook

from peaktrade.clock import FakeClock
from peaktrade.playbook.interpreter import PlayRequest, play
from peaktrade.playbook.result import Outcome


def _play(root, name, **kw):
    lines: list[str] = []
    clock = kw.pop("clock", FakeClock())
    rep = play(root, PlayRequest(name, clock=clock, echo=lines.append, **kw))
    return rep, finished(journal(root, rep.play_id)), lines


def test_retries_back_off_through_the_clock(root):
    write_playbook(root, "flaky", """
        steps:
          - id: flaky
            title: Flaky
            effect: read
            action: test.flaky
            with: {succeed_on: 4, counter: count.txt}
            retries: {attempts: 5, backoff_s: 1, factor: 3, max_backoff_s: 5}
        """)
    clock = FakeClock()
    rep, recs, lines = _play(root, "flaky", clock=clock)
    assert rep.outcome == Outcome.SUCCEEDED
    assert clock.sleeps == [1.0, 3.0, 5.0]
    assert recs["flaky"]["attempts"] == 4 and recs["flaky"]["summary"] == "call 4"
    assert recs["flaky"]["duration_s"] == 9.0
    assert sum("retry flaky" in line for line in lines) == 3


def test_retries_exhausted_fail_the_play(root):
    write_playbook(root, "flaky2", """
        steps:
          - id: flaky
            title: Flaky
            effect: read
            action: test.flaky
            with: {succeed_on: 10, counter: count.txt}
            retries: {attempts: 2, backoff_s: 0.5}
        """)
    rep, recs, _ = _play(root, "flaky2")
    assert rep.outcome == Outcome.FAILED and rep.exit_code == 1
    assert recs["flaky"]["attempts"] == 2 and recs["flaky"]["status"] == "failed"
    assert (root.path / "count.txt").read_text() == "2"


def test_when_uses_params_config_and_mode(root):
    write_playbook(root, "cond", """
        params:
          go: {type: boolean, default: false}
        steps:
          - {id: a, title: A, effect: read, action: test.echo, with: {message: a}, when: "params.go"}
          - {id: b, title: B, effect: read, action: test.echo, with: {message: b}, when: "mode == 'testnet'"}
          - {id: c, title: C, effect: read, action: test.echo, with: {message: c},
             when: "config.exchange.default_type == 'dummy' and steps.b.status == 'succeeded'"}
          - {id: d, title: D, effect: read, action: test.echo, with: {message: d}, when: "steps.b.data.nope"}
        """)
    rep, recs, _ = _play(root, "cond")
    assert [recs[k]["status"] for k in "abcd"] == ["skipped", "succeeded", "succeeded", "errored"]
    assert recs["a"]["summary"] == "when: params.go is false"
    assert "'dict object' has no attribute 'nope'" in recs["d"]["summary"]
    assert rep.outcome == Outcome.FAILED


def test_on_failure_continue_abort_and_playbook(root):
    write_playbook(root, "fixup", """
        steps:
          - {id: fix, title: Fix, effect: act, action: test.touch, with: {path: fixed}}
        """)
    write_playbook(root, "flow", """
        steps:
          - {id: soft, title: Soft, effect: read, action: test.echo, with: {message: x, fail: true},
             on_failure: continue}
          - {id: hard, title: Hard, effect: read, action: test.echo, with: {message: y, fail: true},
             on_failure: {playbook: fixup}}
          - {id: never, title: Never, effect: read, action: test.echo, with: {message: z}}
        """)
    rep, recs, _ = _play(root, "flow")
    assert rep.outcome == Outcome.FAILED
    assert rep.reason == "step hard failed: failed: y"
    assert recs["soft"]["status"] == "failed" and recs["hard"]["status"] == "failed"
    assert recs["hard.on_failure/fix"]["status"] == "succeeded"
    assert "never" not in recs
    assert (root.path / "fixed").exists()


def test_playbook_on_failure_runs_playbook_and_renders_incident(root):
    write_playbook(root, "cleanup", """
        steps:
          - {id: clean, title: Clean, effect: act, action: test.touch, with: {path: cleaned}}
        """)
    write_playbook(root, "fails", """
        steps:
          - {id: bad, title: Bad, effect: read, action: test.echo, with: {message: broken, fail: true}}
        on_failure: {playbook: cleanup, incident: {severity: high}}
        """)
    rep, recs, _ = _play(root, "fails")
    assert rep.outcome == Outcome.FAILED
    assert recs["on_failure/clean"]["status"] == "succeeded"
    assert rep.incident is not None and rep.incident.is_file()
    text = rep.incident.read_text()
    assert "| Severity | high |" in text
    assert "failed: broken" in text


def test_successful_and_blocked_plays_have_no_incident(root):
    write_playbook(root, "fine", """
        steps:
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: fine}}
        """)
    rep, _, _ = _play(root, "fine")
    assert rep.outcome == Outcome.SUCCEEDED and rep.incident is None and rep.checklist.is_file()
    assert not root.incidents_dir.exists()


def test_resume_after_a_failed_step_reruns_from_that_step_only(root):
    from pb_helpers import cli

    write_playbook(root, "again", """
        steps:
          - {id: first, title: First, effect: act, action: test.touch, with: {path: first.txt}}
          - {id: flaky, title: Flaky, effect: read, action: test.flaky, with: {succeed_on: 2, counter: n.txt}}
          - {id: last, title: Last, effect: act, action: test.touch, with: {path: last.txt}}
        """)
    rep, recs, _ = _play(root, "again")
    assert rep.outcome == Outcome.FAILED and "last" not in recs
    rep2 = play(root, PlayRequest("again", resume=rep.play_id, echo=lambda s: None, clock=FakeClock()))
    assert rep2.outcome == Outcome.SUCCEEDED and rep2.play_id == rep.play_id
    assert (root.path / "first.txt").read_text() == "x"  # not touched again
    assert (root.path / "last.txt").read_text() == "x"
    recs = journal(root, rep.play_id)
    assert [r["step"] for r in recs if r["type"] == "step_started"] == ["first", "flaky", "flaky", "last"]
    # the checklist is re-rendered from the whole journal: the failed attempt is replaced by the later one
    text = rep2.checklist.read_text()
    assert "| x | `flaky` | Flaky | succeeded |" in text and "| Outcome | **succeeded** |" in text
    # a play that succeeded has nothing to resume
    assert cli(root, "play", "again", "--resume", rep.play_id) == 2


def test_journal_of_a_running_play_is_locked(root):
    import pytest

    from peaktrade.errors import UsageError
    from peaktrade.playbook.journal import Journal

    path = root.plays_dir / "p1" / "journal.jsonl"
    first = Journal(path)
    with pytest.raises(UsageError, match="play p1 is running in another process"):
        Journal(path)
    first.close()
    Journal(path).close()


def test_tolerated_failures_are_named_in_a_successful_outcome(root):
    write_playbook(root, "tolerant", """
        steps:
          - {id: soft, title: Soft, effect: read, action: test.echo, with: {message: x, fail: true},
             on_failure: continue}
          - {id: ok, title: Ok, effect: read, action: test.echo, with: {message: fine}}
        """)
    rep, recs, _ = _play(root, "tolerant")
    assert rep.outcome == Outcome.SUCCEEDED and rep.exit_code == 0
    assert rep.reason == "1 step(s) failed under on_failure: continue: soft"
    assert recs["soft"]["status"] == "failed"
    assert 'reason="1 step(s) failed under on_failure: continue: soft"' in root.operations_log.read_text()
