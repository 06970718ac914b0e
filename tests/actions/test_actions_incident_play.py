"""incident.new started by a play names that play (id and operator) in the report, so the report
leads back to the play's journal; `peaktrade incident new` outside a play has no play row."""

from __future__ import annotations


def test_incident_opened_by_a_play_names_the_play(ctx, act):
    from peaktrade.actions import registry

    registry.load_all()
    result = act("incident.new", ctx, severity="high", runbook="shutdown-emergency")
    assert result.ok
    text = (ctx.root.path / result.data["path"]).read_text()
    assert "| Play | `play-1` (operator alice) |" in text
    assert "| Severity | high |" in text


def test_incident_outside_a_play_has_no_play_row(root, capsys):
    from peaktrade.cli import run

    assert run(["--root", str(root.path), "incident", "new", "--runbook", "shutdown", "--severity", "low"]) == 0
    (report,) = root.incidents_dir.glob("*.md")
    assert "| Play |" not in report.read_text()
