"""`peaktrade validate`, `init` and `playbooks` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INVALID = REPO / "tests" / "fixtures" / "playbooks" / "invalid"
SHIPPED = {"health-check", "shutdown", "shutdown-emergency", "restart-after-maintenance"}


def test_validate_clean_tree_prints_one_summary_line(cli):
    code, out, err = cli("--root", str(REPO), "validate")
    assert code == 0, out + err
    *warnings, summary = out.splitlines()
    assert all(w.endswith(" [warning]") for w in warnings)  # warnings are listed but do not fail
    assert summary.startswith("OK: ") and summary.endswith(f" files valid ({len(warnings)} warnings)")


def test_validate_clean_playbook_prints_only_the_summary(cli):
    code, out, _ = cli("--root", str(REPO), "validate", str(REPO / "playbooks" / "health-check.yaml"))
    assert code == 0 and out == "OK: 1 file valid (0 warnings)\n"


def test_validate_invalid_file_prints_located_errors_and_exits_2(cli):
    case = INVALID / "bad-action-argument.yaml"
    code, out, _ = cli("--root", str(REPO), "validate", str(case))
    expected = case.with_suffix(".expected").read_text().splitlines()
    assert code == 2
    assert out.splitlines() == [*expected, "FAILED: 3 error(s), 0 warning(s) in 1 file"]


def test_validate_json_and_github_formats(cli):
    case = INVALID / "duplicate-step-id.yaml"
    code, out, _ = cli("--root", str(REPO), "validate", "--format", "json", str(case))
    data = json.loads(out)
    assert code == 2 and data["ok"] is False and data["errors"] == 1
    assert data["problems"][0] == {
        "file": "tests/fixtures/playbooks/invalid/duplicate-step-id.yaml", "line": 10, "col": 5,
        "path": "$.steps[1].id", "message": "duplicate step id 'check' (first defined on line 6)",
        "step": "check", "severity": "error"}
    code, out, _ = cli("--root", str(REPO), "validate", "--format", "github", str(case))
    assert code == 2
    assert out.splitlines() == [
        "::error file=tests/fixtures/playbooks/invalid/duplicate-step-id.yaml,line=10,col=5::"
        "$.steps[1].id (step 'check'): duplicate step id 'check' (first defined on line 6)"]


def test_validate_missing_path_is_located_not_a_traceback(cli, tmp_path):
    code, out, err = cli("--root", str(REPO), "validate", str(REPO / "playbooks" / "nope.yaml"))
    assert code == 2
    assert out.splitlines()[0] == "playbooks/nope.yaml:1:1: $: file not found"
    assert "Traceback" not in out + err


def test_validate_as_a_real_process_exit_codes(tmp_path):
    exe = [sys.executable, "-m", "peaktrade"]
    ok = subprocess.run([*exe, "--root", str(REPO), "validate"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([*exe, "--root", str(REPO), "validate", str(INVALID)], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stdout + bad.stderr
    assert bad.stdout.splitlines()[-1].startswith("FAILED: ")


def test_init_creates_a_root_refuses_to_overwrite_and_forces(cli, tmp_path):
    target = tmp_path / "desk"
    code, out, err = cli("init", str(target))
    assert code == 0, err
    assert out.startswith(f"Initialised {target.resolve()} (")
    assert "peaktrade play health-check --yes" in out
    for folder in ("logs", "reports/checklists", "reports/incidents", "var", "data", "live_runs"):
        assert (target / folder).is_dir(), folder
    assert (target / "config" / "config.toml").read_bytes() == (REPO / "config" / "config.toml").read_bytes()
    assert {p.stem for p in (target / "playbooks").glob("*.yaml")} >= SHIPPED
    assert (target / "schemas" / "playbook.schema.json").is_file()

    code, _, err = cli("init", str(target))  # unchanged shipped files are no conflict
    assert code == 0, err
    (target / "config" / "config.toml").write_text("# edited by the desk\n")
    (target / "playbooks" / "health-check.yaml").unlink()
    code, out, err = cli("init", str(target))
    assert code == 2
    assert "already has 1 of the shipped files, changed" in err and "use --force" in err
    assert "  config/config.toml" in err.splitlines()
    assert not (target / "playbooks" / "health-check.yaml").exists()  # refused means nothing was changed
    assert (target / "config" / "config.toml").read_text() == "# edited by the desk\n"

    code, _, _ = cli("init", str(target), "--force")
    assert code == 0
    assert (target / "config" / "config.toml").read_bytes() == (REPO / "config" / "config.toml").read_bytes()
    code, out, _ = cli("--root", str(target), "validate")
    assert code == 0 and out.splitlines()[-1].startswith("OK: ")


def test_init_into_a_file_is_a_usage_error(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli("init", str(blocker))
    assert code == 2 and "is not a directory" in err


def test_playbooks_list_and_show(cli):
    code, out, _ = cli("--root", str(REPO), "playbooks", "list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and SHIPPED <= set(rows)
    assert rows["health-check"] == {"name": "health-check", "runbook": 6, "stage": "any",
                                    "title": "Daily system health check", "steps": 8}
    code, out, _ = cli("--root", str(REPO), "playbooks", "list")
    assert code == 0 and out.splitlines()[0].split() == ["NAME", "RUNBOOK", "STAGE", "STEPS", "TITLE"]
    assert any(line.split()[:4] == ["shutdown", "5", "any", "7"] for line in out.splitlines())

    code, out, _ = cli("--root", str(REPO), "playbooks", "show", "shutdown", "--json")
    info = json.loads(out)
    assert code == 0 and info["params"]["reason"] == {
        "type": "string", "required": True,
        "description": "Why the system is shut down (goes into logs/operations.log)."}
    import yaml

    raw = yaml.safe_load((REPO / "playbooks" / "shutdown.yaml").read_text())["steps"]
    assert [s["id"] for s in info["steps"]] == [s["id"] for s in raw]
    assert [s["effect"] for s in info["steps"]] == [s["effect"] for s in raw]
    assert all(step["kind"] in raw_step for step, raw_step in zip(info["steps"], raw, strict=True))
    assert info["steps"][0] == {"id": "identify", "kind": "action", "effect": "read",
                                "title": "Identify running trading processes", "target": "processes.list",
                                "with": raw[0]["with"]}
    code, out, _ = cli("--root", str(REPO), "playbooks", "show", "restart-after-maintenance")
    assert code == 0 and "guards:" in out and "kill_switch: released" in out
    assert "(when params.stage == 'testnet')" in out


def test_playbooks_show_unknown_name(cli):
    code, _, err = cli("--root", str(REPO), "playbooks", "show", "nope")
    assert code == 2 and "no playbook 'nope' in playbooks/" in err and "health-check" in err


def test_validate_imports_no_heavy_or_pydantic_modules():
    code = ("import sys\nfrom peaktrade.cli import run\nrc = run(['--root', sys.argv[1], 'validate', '-f', 'json'])\n"
            "print(rc, sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pydantic', 'ccxt', 'pandas', 'pyarrow', 'numpy'}))")
    proc = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stdout + proc.stderr


def test_bad_format_choice_is_a_usage_error(cli):
    code, out, err = cli("--root", str(REPO), "validate", "--format", "yaml")
    assert code == 2 and "'yaml' is not one of 'text', 'json', 'github'" in out + err


def test_validate_over_the_invalid_fixture_folders_prints_every_expected_line(cli):
    fixtures = REPO / "tests" / "fixtures"
    folders = [fixtures / "playbooks" / "invalid", fixtures / "policies" / "invalid"]
    expected = sorted(line for folder in folders for f in folder.glob("*.expected")
                      for line in f.read_text().splitlines())
    code, out, _ = cli("--root", str(REPO), "validate", *map(str, folders))
    *lines, summary = out.splitlines()
    assert code == 2
    assert sorted(ln for ln in lines if not ln.endswith(" [warning]")) == expected
    assert summary.startswith(f"FAILED: {len(expected)} error(s)")


def test_playbooks_show_of_an_invalid_playbook_names_the_problems(cli, tmp_path):
    code, _, _ = cli("init", str(tmp_path / "desk"))
    assert code == 0
    broken = tmp_path / "desk" / "playbooks" / "health-check.yaml"
    broken.write_text(broken.read_text().replace("action: disk.check", "action: disk.chek"))
    code, out, err = cli("--root", str(tmp_path / "desk"), "playbooks", "show", "health-check")
    assert code == 2 and "playbook 'health-check' is invalid" in err
    assert "playbooks/health-check.yaml:" in err and "unknown action 'disk.chek'" in err
    code, out, _ = cli("--root", str(tmp_path / "desk"), "playbooks", "list")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("health-check"))
    assert "(invalid: see peaktrade validate playbooks/health-check.yaml)" in line


def test_init_writes_a_gitignore_for_runtime_state_but_keeps_an_existing_one(cli, tmp_path):
    import subprocess

    target = tmp_path / "desk"
    assert cli("init", str(target))[0] == 0
    ignore = (target / ".gitignore").read_text()
    assert "var/" in ignore and "live_runs/" in ignore and "!logs/operations.log" in ignore
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    (target / "logs" / "operations.log").write_text("x\n")
    (target / "logs" / "peaktrade.log").write_text("y\n")
    (target / "var" / "state").write_text("z\n")
    status = subprocess.run(["git", "-C", str(target), "status", "--porcelain", "-uall"], capture_output=True,
                            text=True, check=True).stdout
    assert "logs/operations.log" in status and "config/config.toml" in status
    assert "peaktrade.log" not in status and "var/" not in status
    (target / ".gitignore").write_text("# the desk's own\n")
    assert cli("init", str(target))[0] == 0
    assert (target / ".gitignore").read_text() == "# the desk's own\n"
