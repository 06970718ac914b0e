"""smoke.run places (and cancels) orders on the non-live exchange: it is an act action, so
``play testnet-start --dry-run`` only describes it, and the shipped playbooks that use it say effect: act."""

from __future__ import annotations

from pb_helpers import cli, finished, journal

from peaktrade.actions.registry import get, load_all


def test_smoke_run_is_an_act_action_with_a_description():
    load_all()
    spec = get("smoke.run")
    assert spec.effect == "act"
    assert spec.describe({}).startswith("place and cancel test orders on the configured non-live exchange")


def test_testnet_start_dry_run_describes_the_smoke_test(root, monkeypatch):
    import peaktrade.ops.smoke as smoke

    def must_not_run(*a, **kw):
        raise AssertionError("the smoke test ran in a dry run")

    monkeypatch.setattr(smoke, "run_smoke", must_not_run)
    assert cli(root, "play", "testnet-start", "--dry-run", "--operator", "tester") == 0
    recs = finished(journal(root))
    assert recs["smoke"]["status"] == "would-run"
    assert recs["smoke"]["summary"].startswith("would place and cancel test orders on the configured non-live")
    assert recs["readiness"]["status"] == "succeeded"  # read steps still run
    assert recs["start"]["status"] == "would-run"


def test_shipped_playbooks_using_smoke_still_validate(root, capsys):
    assert cli(root, "validate") == 0, capsys.readouterr()
    for name in ("testnet-start", "restart-after-maintenance"):
        text = root.playbook_file(name).read_text()
        block = text[text.index("action: smoke.run"):]
        assert block.splitlines()[1].strip() == "effect: act"
