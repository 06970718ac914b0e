"""The incident report of a failed play: no doubled 'Incident: Incident:' heading for the incident
playbooks, and a failed dry run opens none (it changed nothing; issue 11)."""

from __future__ import annotations

from pb_helpers import PY, cli


def _play_fails(root, capsys, *args):
    # a failing read step (it also runs in a dry run, where a confirm is only shown, never failed)
    root.playbook_file("sleepy").write_text(
        "name: sleepy\ntitle: 'Incident: something broke'\nrunbook: 8\nstage: any\nsteps:\n"
        f"  - {{id: look, title: Look, run: ['{PY}', '-c', 'raise SystemExit(1)'], effect: read}}\n")
    assert cli(root, "play", "sleepy", *args) == 1
    capsys.readouterr()
    (report,) = root.incidents_dir.glob("*_sleepy_*.md")
    return report.read_text().splitlines()[0]


def test_incident_heading_is_not_doubled(root, capsys):
    heading = _play_fails(root, capsys)
    assert heading.startswith("# Incident: something broke: play ") and heading.endswith(" failed")


def test_failed_dry_run_opens_no_incident(root, capsys):
    root.playbook_file("sleepy").write_text(
        "name: sleepy\ntitle: 'Incident: something broke'\nrunbook: 8\nstage: any\nsteps:\n"
        f"  - {{id: look, title: Look, run: ['{PY}', '-c', 'raise SystemExit(1)'], effect: read}}\n")
    assert cli(root, "play", "sleepy", "--dry-run") == 1
    assert "incident:" not in capsys.readouterr().out
    assert not list(root.incidents_dir.glob("*.md"))
