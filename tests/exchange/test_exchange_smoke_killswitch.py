"""The smoke test places orders, so it is refused while the kill switch is KILLED or RECOVERING
(DESIGN 5: nothing places new orders then) - from the CLI and as the smoke.run action (blocked)."""

from __future__ import annotations

from peaktrade.cli import run


def test_smoke_is_refused_while_the_kill_switch_is_engaged(droot, capsys):
    from peaktrade.actions.registry import ActionContext, get
    from peaktrade.root import Root

    assert run(["--root", str(droot), "kill-switch", "engage", "--reason", "test"]) == 0
    capsys.readouterr()
    assert run(["--root", str(droot), "smoke"]) == 3
    assert capsys.readouterr().err == ("peaktrade: the smoke test places orders: refused while the kill switch "
                                       "is engaged (see 'peaktrade kill-switch status')\n")
    result = get("smoke.run").fn(ActionContext(Root(droot)), {})
    assert not result.ok and result.blocked and "kill switch is engaged" in result.summary
