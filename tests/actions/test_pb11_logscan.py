"""logs.scan_errors with the documented allow-list, a time window and a minimum; processes.list expectations."""

from __future__ import annotations

from datetime import UTC, datetime

from peaktrade.clock import FakeClock

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _log(root, text: str) -> None:
    root.logs_dir.mkdir(exist_ok=True)
    (root.logs_dir / "peaktrade.log").write_text(text)


def test_allowlist_explains_lines_and_the_rest_fails_shown(ctx, act, root):
    ctx.clock = FakeClock(NOW)
    _log(root, "2026-12-04 11:00:00,000 ERROR [x] known flake ExchangeNetworkError retry 1/3\n"
               "2026-12-04 11:30:00,000 ERROR [x] order rejected: insufficient funds\n"
               "Traceback (most recent call last):\n"
               "2026-12-01 09:00:00,000 CRITICAL [x] three days old\n")
    (root.policies_dir / "log-allowlist.yaml").write_text(
        "allow:\n  - files: logs/peaktrade.log\n    pattern: 'ExchangeNetworkError retry'\n"
        "    reason: reads are retried; one retry is expected\n")
    res = act("logs.scan_errors", ctx, pattern="error|critical|traceback", allowlist=True, fail_on_match=True,
              since_hours=24)
    assert not res.ok
    assert res.summary == ("2 unexplained line(s) in 1 log file(s) (1 explained by policies/log-allowlist.yaml), "
                           "last 24 h")
    # the traceback line has no stamp: it belongs to the stamped line above it (inside the window)
    assert res.output.splitlines() == ["logs/peaktrade.log:2: 2026-12-04 11:30:00,000 ERROR [x] order rejected: "
                                       "insufficient funds", "logs/peaktrade.log:3: Traceback (most recent call last):"]
    assert act("logs.scan_errors", ctx, pattern="error|critical|traceback", fail_on_match=True).data["count"] == 4


def test_unstamped_lines_before_any_stamp_count_and_a_broken_allowlist_fails(ctx, act, root):
    ctx.clock = FakeClock(NOW)
    _log(root, "ERROR no stamp at all\n")
    assert act("logs.scan_errors", ctx, fail_on_match=True, since_hours=1).data["count"] == 1
    broken = "allow:\n  - pattern: '(unclosed'\n    reason: broken on purpose\n"
    (root.policies_dir / "log-allowlist.yaml").write_text(broken)
    res = act("logs.scan_errors", ctx, allowlist=True, fail_on_match=True)
    assert not res.ok and res.summary.startswith("policies/log-allowlist.yaml: entry 1: ")


def test_min_matches_fails_with_fewer_lines(ctx, act, root):
    ctx.clock = FakeClock(NOW)
    _log(root, "2026-12-04 11:59:00,000 INFO [run] Shutdown complete (stopped after 3 bar(s))\n")
    assert act("logs.scan_errors", ctx, pattern="Shutdown complete", min_matches=1, since_hours=1).ok
    two = act("logs.scan_errors", ctx, pattern="Shutdown complete", min_matches=2, since_hours=1)
    assert not two.ok and two.summary.endswith("; expected at least 2")


def test_processes_expectations_are_explicit(ctx, act):
    from peaktrade.actions import registry
    from peaktrade.schemas import validator_for

    schema = validator_for(registry.get("processes.list").schema)
    assert [e.message for e in schema.iter_errors({"pattern": "x"})] == ["'expect' is a required property"]
    assert list(schema.iter_errors({"expect": "either"}))  # the old "anything goes" is gone
    assert not list(schema.iter_errors({"expect": "exactly 2"}))
    res = act("processes.list", ctx, pattern="no-such-process-pb11", expect="exactly 0")
    assert res.ok and not act("processes.list", ctx, pattern="no-such-process-pb11", expect="some").ok
