"""The generic system actions against real processes, files, git repositories and environments."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest


def _schema_errors(name: str, args: dict) -> list[str]:
    from peaktrade.actions import registry
    from peaktrade.schemas import validator_for

    return [e.message for e in validator_for(registry.get(name).schema).iter_errors(args)]


def test_every_action_schema_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    from peaktrade.actions import registry

    names = {"processes.list", "disk.check", "logs.scan_errors", "logs.backup", "git.state", "ops.log",
             "env.check", "validate.all"}
    actions = registry.load_all()
    assert names <= set(actions)
    for name in names:
        Draft202012Validator.check_schema(actions[name].schema)
    assert actions["logs.backup"].effect == "act" and actions["ops.log"].effect == "act"
    assert actions["disk.check"].effect == "read"


def _wait_exec(marker: str, *procs: subprocess.Popen) -> None:
    """Until each child has exec'd (a fresh fork still shows the parent's command line)."""
    import time

    for proc in procs:
        for _ in range(200):
            try:
                if marker in open(f"/proc/{proc.pid}/cmdline", "rb").read().decode(errors="replace"):
                    break
            except OSError:
                pass
            time.sleep(0.01)


@pytest.fixture
def sleeper():
    marker = f"pt-marker-{uuid.uuid4().hex[:10]}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker,
                             "--api-key", "sup3rs3cretvalue", "--token=another-secret-1"])
    _wait_exec(marker, proc)
    yield proc, marker
    proc.kill()
    proc.wait()


def test_processes_list_finds_a_real_process_and_masks_secret_flags(ctx, act, sleeper):
    proc, marker = sleeper
    result = act("processes.list", ctx, pattern=marker, expect="some")
    assert result.ok, result.summary
    assert [p["pid"] for p in result.data["processes"]] == [proc.pid]
    cmdline = result.data["processes"][0]["cmdline"]
    assert marker in cmdline
    assert "sup3rs3cretvalue" not in cmdline and "another-secret-1" not in cmdline
    assert "--api-key ***REDACTED***" in cmdline and "--token=***REDACTED***" in cmdline
    assert "sup3rs3cretvalue" not in result.output
    assert not act("processes.list", ctx, pattern=marker, expect="none").ok


def test_processes_list_expect_none_passes_once_the_process_is_gone(ctx, act, sleeper):
    proc, marker = sleeper
    proc.kill()
    proc.wait()
    result = act("processes.list", ctx, pattern=marker, expect="none")
    assert result.ok and result.data["count"] == 0
    assert result.summary == f"0 process(es) match {marker!r}"
    assert not act("processes.list", ctx, pattern=marker, expect="some").ok


def test_processes_list_never_lists_itself(ctx, act):
    # this test process's own command line matches "pytest"; the action must skip itself and its parents
    result = act("processes.list", ctx, pattern=".", expect="listing")
    assert os.getpid() not in {p["pid"] for p in result.data["processes"]}
    assert os.getppid() not in {p["pid"] for p in result.data["processes"]}


def test_processes_list_bad_regex_is_a_failed_result(ctx, act):
    result = act("processes.list", ctx, pattern="(unclosed", expect="none")
    assert not result.ok and result.summary.startswith("invalid pattern '(unclosed'")


def test_disk_check_thresholds(ctx, act, root):
    ok = act("disk.check", ctx, min_free_pct=0)
    assert ok.ok and 0 < ok.data["free_pct"] <= 100 and ok.data["path"] == str(root.path)
    assert not act("disk.check", ctx, min_free_pct=100).ok
    missing = act("disk.check", ctx, path="no/such/dir")
    assert not missing.ok and "cannot read disk usage" in missing.summary
    assert _schema_errors("disk.check", {"min_free_pct": 120}) == ["120 is greater than the maximum of 100"]


def test_logs_scan_errors_counts_tails_and_redacts(ctx, act, root, monkeypatch):
    monkeypatch.setenv("EXCHANGE_API_TOKEN", "tok-very-secret-42")
    root.logs_dir.mkdir()
    lines = ["ok start", "ERROR one", "Critical two", "fine", "exception three tok-very-secret-42", "error four"]
    (root.logs_dir / "peaktrade.log").write_text("\n".join(lines) + "\n")
    (root.logs_dir / "other.txt").write_text("error not a .log file\n")
    result = act("logs.scan_errors", ctx, tail=2)
    assert result.ok and result.data["count"] == 4
    assert result.data["files"] == ["logs/peaktrade.log"]
    assert result.output.splitlines() == ["logs/peaktrade.log:5: exception three ***REDACTED***",
                                          "logs/peaktrade.log:6: error four"]
    assert not act("logs.scan_errors", ctx, fail_on_match=True).ok
    shutdown = act("logs.scan_errors", ctx, pattern="Shutdown complete")
    assert shutdown.ok and shutdown.data["count"] == 0


def test_logs_scan_errors_without_logs_is_clean(ctx, act):
    result = act("logs.scan_errors", ctx, fail_on_match=True)
    assert result.ok and result.summary == "0 matching line(s) in 0 log file(s)"


def test_logs_backup_copies_to_a_timestamped_folder(ctx, act, root):
    (root.path / "logs").mkdir()
    (root.path / "logs" / "operations.log").write_text("line\n")
    (root.path / "reports" / "checklists").mkdir(parents=True)
    (root.path / "reports" / "checklists" / "c.md").write_text("# c\n")
    first = act("logs.backup", ctx, sources=["logs", "reports"], label="emergency")
    target = root.path / "backups" / "emergency_20251207_120000"
    assert first.ok and first.data["target"] == "backups/emergency_20251207_120000"
    assert (target / "logs" / "operations.log").read_text() == "line\n"
    assert (target / "reports" / "checklists" / "c.md").read_text() == "# c\n"
    second = act("logs.backup", ctx, sources=["logs"], label="emergency")  # same second on the fake clock
    assert second.data["target"] == "backups/emergency_20251207_120000_2"
    partial = act("logs.backup", ctx, sources=["logs", "nothere"], label="x")
    assert partial.ok and partial.data["missing"] == ["nothere"] and "missing: nothere" in partial.summary


def test_logs_backup_with_nothing_to_copy_says_so(ctx, act, root):
    result = act("logs.backup", ctx)
    assert result.ok and result.summary == "nothing to back up (logs missing)"
    assert not (root.path / "backups").exists()


def test_logs_backup_refuses_paths_outside_the_root():
    assert _schema_errors("logs.backup", {"sources": ["../etc"]})
    assert _schema_errors("logs.backup", {"sources": ["/etc"]})
    assert _schema_errors("logs.backup", {"label": "a/b"})
    assert not _schema_errors("logs.backup", {"sources": ["logs", "reports/incidents"], "label": "ok_1"})


def test_git_state_outside_a_repository(ctx, act):
    result = act("git.state", ctx, path="config/config.toml")
    assert result.ok and result.data == {"git": False}
    assert result.summary == "not a git repository: no change history to check"


def _git(root, *args):
    subprocess.run(["git", "-C", str(root.path), "-c", "user.name=t", "-c", "user.email=t@example.org",
                    *args], check=True, capture_output=True)


def test_git_state_reports_commits_changes_and_the_config_diff(ctx, act, root):
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "defaults")
    clean = act("git.state", ctx, path="config/config.toml")
    assert clean.ok and clean.data["path_changed"] is False and clean.data["changes"] == []
    assert len(clean.data["commits"]) == 1 and clean.data["commits"][0].endswith("defaults")
    cfg = root.config_file
    cfg.write_text(cfg.read_text().replace('mode = "testnet"', 'mode = "paper"'))
    changed = act("git.state", ctx, path="config/config.toml")
    assert changed.data["path_changed"] is True
    assert changed.data["changes"] == [" M config/config.toml"]
    assert '+mode = "paper"' in changed.output
    assert changed.summary == "1 recent commit(s); 1 uncommitted change(s); config/config.toml changed"


def test_ops_log_appends_a_redacted_line(ctx, act, root, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_SECRET", "s3cr3t-value-99")
    result = act("ops.log", ctx, message="Health-Check OK", reason="because s3cr3t-value-99")
    text = root.operations_log.read_text()
    assert text == result.data["line"] + "\n"
    assert text.startswith("2025-12-07T12:00:00")
    assert 'operator=alice playbook/what="Health-Check OK" play=play-1 outcome=ok' in text
    assert "s3cr3t-value-99" not in text and "***REDACTED***" in text
    assert _schema_errors("ops.log", {}) == ["'message' is a required property"]


def test_env_check_reports_names_never_values(ctx, act, monkeypatch):
    monkeypatch.setenv("PT_TEST_PRESENT", "value-that-must-not-leak")
    monkeypatch.setenv("PT_TEST_EMPTY", "")
    monkeypatch.delenv("PT_TEST_MISSING", raising=False)
    result = act("env.check", ctx, required=["PT_TEST_PRESENT", "PT_TEST_EMPTY"], optional=["PT_TEST_MISSING"])
    assert not result.ok
    assert result.data == {"present": ["PT_TEST_PRESENT"], "missing": ["PT_TEST_EMPTY"],
                           "optional_missing": ["PT_TEST_MISSING"]}
    assert result.summary == "missing required: PT_TEST_EMPTY; optional not set: PT_TEST_MISSING"
    assert "value-that-must-not-leak" not in repr(result)
    assert act("env.check", ctx, required=["PT_TEST_PRESENT"]).ok
    assert _schema_errors("env.check", {"required": ["not a name"]})


def test_validate_all_passes_on_defaults_and_fails_on_a_broken_playbook(ctx, act, root):
    ok = act("validate.all", ctx)
    assert ok.ok and ok.data["errors"] == 0
    assert ok.summary.endswith(f"files valid ({ok.data['warnings']} warnings)")
    broken = root.playbooks_dir / "health-check.yaml"
    broken.write_text(broken.read_text().replace("action: disk.check", "action: disk.chek"))
    failed = act("validate.all", ctx)
    assert not failed.ok and failed.data["errors"] == 1
    assert failed.summary.startswith("1 validation error(s) in ")
    assert "playbooks/health-check.yaml:" in failed.summary and "unknown action 'disk.chek'" in failed.summary


def test_processes_list_scope_root_keeps_only_this_roots_processes(ctx, act, root, tmp_path_factory):
    marker = f"pt-scope-{uuid.uuid4().hex[:10]}"
    other = tmp_path_factory.mktemp("other-root")  # outside the deployment root
    code = "import time; time.sleep(60)"
    mine_by_arg = subprocess.Popen([sys.executable, "-c", code, marker, "--root", str(root.path)], cwd=other)
    mine_by_cwd = subprocess.Popen([sys.executable, "-c", code, marker], cwd=root.path)
    foreign = subprocess.Popen([sys.executable, "-c", code, marker, "--root", str(other)], cwd=other)
    _wait_exec(marker, mine_by_arg, mine_by_cwd, foreign)
    try:
        everywhere = act("processes.list", ctx, pattern=marker, expect="exactly 3")
        scoped = act("processes.list", ctx, pattern=marker, scope="root", expect="some")
        assert {p["pid"] for p in everywhere.data["processes"]} == {mine_by_arg.pid, mine_by_cwd.pid, foreign.pid}
        assert {p["pid"] for p in scoped.data["processes"]} == {mine_by_arg.pid, mine_by_cwd.pid}
        assert scoped.ok and scoped.summary == f"2 process(es) in this root match {marker!r}"
    finally:
        for proc in (mine_by_arg, mine_by_cwd, foreign):
            proc.kill()
            proc.wait()
