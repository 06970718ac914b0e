"""The incident report of a failed play: no doubled 'Incident: Incident:' heading for the incident
playbooks, and a failed dry run says so in its heading (nothing was changed)."""

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


def test_dry_run_incident_says_dry_run(root, capsys):
    heading = _play_fails(root, capsys, "--dry-run")
    assert heading.endswith(" failed (dry run: nothing was changed)")
