"""A live session on the loopback Kraken simulator with the real ccxt client, through the CLI (DESIGN 5, 6):

* `play live-start-small` with a signed live_activation request (owner + a second person), both persons:2
  steps countersigned, starts a live session of the strategy as its own process; its orders reach the
  exchange only through the gateway, within the signed max_notional; the play watches its first order;
* the same playbook without an approval, or `runs start-*`/`session run --mode live` from the command
  line, never starts a live session;
* a continuous live session is ended by `play shutdown` (runbook 5) in order, nothing left resting;
* `orders liquidate --yes` closes the live position through the gateway (reduce-only), from what the
  exchange reports.

The exchange factory of the processes is pointed at the simulator by test code only (simhook/sitecustomize.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from peaktrade.exchange.sim.pairs import asset
from peaktrade.exchange.simulator import KrakenSimulator

from .conftest import init_root

pytestmark = pytest.mark.slow

KEY, SECRET = "live-sim-key-55aa", "bGl2ZS1zaW0tc2VjcmV0LTEyMzQ1Ng=="
PEOPLE = {"alice": ["owner"], "bob": ["operator"], "dave": ["owner"], "erin": ["operator"]}
HOOK = Path(__file__).with_name("simhook")


def _seed_with_a_long_signal(*, at_once: bool = False) -> int:
    """A market seed on which the session's strategy (ma_crossover 5/20, 40 one-minute bars) goes long.

    The simulator's price path follows the wall clock, so on a fixed seed about one run in 40 sees the fast
    mean below the slow one for all 40 bars and places no order. The seed is picked for the next minutes
    (the play starts the session a little later), so the test always exercises an order. ``at_once``: a paced
    session decides on each bar as it closes, so the signal must be long on the newest bars of those minutes
    (else the play's first-order watch waits for a cross that may take many minutes)."""
    from datetime import UTC, datetime, timedelta

    from peaktrade.clock import FakeClock
    from peaktrade.exchange.dummy import DummyExchange
    from peaktrade.runtime.strategies.ma_crossover import MaCrossover

    strategy, now = MaCrossover(), datetime.now(UTC)

    def long_bars(seed: int, shift_s: int) -> int:
        market = DummyExchange({"seed": seed, "start_prices": {"BTC/EUR": 60000.0}, "bar_seconds": 15,
                                "volatility": 0.002}, clock=FakeClock(now + timedelta(seconds=shift_s)))
        closes = [c[4] for c in market.fetch_ohlcv("BTC/EUR", "1m", limit=60)]
        if at_once:  # the closed bar and the forming one
            return 40 * (strategy.signal(closes[:-1]) > 0 and strategy.signal(closes) > 0)
        return sum(strategy.signal(closes[: k + 1]) > 0 for k in range(20, 60))

    for seed in range(42, 1042):
        if all(long_bars(seed, shift) >= 10 for shift in range(0, 301, 30)):
            return seed
    raise AssertionError("no seed in 42..1041 gives the strategy a long signal in the next minutes")


@pytest.fixture
def sim():
    s = KrakenSimulator(KEY, SECRET, balances={"EUR": 10_000.0}, timeout_delay_s=0.2,
                        seed=_seed_with_a_long_signal())
    s.start()
    yield s
    s.stop()


@pytest.fixture
def keys(tmp_path):
    if not shutil.which("ssh-keygen") or not os.environ.get("SSH_AUTH_SOCK"):
        pytest.skip("needs ssh-keygen and the test session's ssh-agent (tests/conftest.py)")
    out = {}
    for name in PEOPLE:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f",
                        str(tmp_path / name)], check=True, capture_output=True)
        out[name] = tmp_path / name
    subprocess.run(["ssh-add", "-q", *(str(p) for p in out.values())], check=True, capture_output=True)
    return out


def _live_root(base: Path, keys) -> Path:
    root = init_root(base, mode="live")
    roles = root / "policies" / "roles.yaml"
    data = yaml.safe_load(roles.read_text())
    data["people"] = [{"name": n, "roles": r, "keys": [keys[n].with_suffix(".pub").read_text().strip()]}
                      for n, r in PEOPLE.items()]
    roles.write_text("# yaml-language-server: $schema=../schemas/roles.schema.json\n" + yaml.safe_dump(data))
    stages = root / "policies" / "stages.yaml"
    stages.write_text(stages.read_text().replace("enabled: false", "enabled: true"))
    cfg = root / "config" / "config.toml"
    text = cfg.read_text()
    text = re.sub(r'(?m)^default_type = "dummy"', 'default_type = "kraken"', text, count=1)
    # a finite, unpaced profile so the test does not wait for real one-minute bars
    text += '\n[session.profiles.live_test]\nsteps = 40\nwarmup_bars = 20\npace = false\n' \
            'description = "test: a few bars of history, no waiting"\n'
    cfg.write_text(text)
    from peaktrade.policy.stages import write_stage_record
    from peaktrade.root import Root

    write_stage_record(Root(root), {"stage": "live", "since": "2026-01-01T00:00:00Z", "by": "test", "history": []})
    return root


def _env(sim) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(HOOK), "PEAKTRADE_TEST_SIM_URL": sim.base_url,
            "PEAKTRADE_TEST_SIM_KEY": KEY, "PEAKTRADE_TEST_SIM_SECRET": SECRET,
            "KRAKEN_API_KEY": KEY, "KRAKEN_API_SECRET": SECRET}


def _cli(root: Path, env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peaktrade", "--root", str(root), *args], capture_output=True,
                          text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def _go_live(root: Path, env: dict[str, str], keys, params: list[str]) -> tuple[str, str, subprocess.CompletedProcess]:
    """Request and sign a live_activation (owners alice and dave), run `live-start-small`, countersign its
    persons: 2 steps as erin; returns the request id, the play id and the last play's output."""
    out = _cli(root, env, "approvals", "request", "--playbook", "live-start-small", "--decision", "live_activation",
               "--requester", "bob", "--json", *params)
    assert out.returncode == 0, out.stderr
    rid = json.loads(out.stdout)["id"]
    for n in ("alice", "dave"):
        signed = _cli(root, env, "approvals", "sign", rid, "--as", n, "--key", str(keys[n]))
        assert signed.returncode == 0, signed.stderr
    out = _cli(root, env, "play", "live-start-small", "--yes", "--operator", "bob", *params)
    play_id = sorted(p.name for p in (root / "var" / "plays").iterdir())[-1]
    for _ in range(3):  # each persons: 2 step waits for the second person's signature
        if out.returncode != 1 or "needs the second person's signature" not in out.stdout:
            break
        step = re.search(r"--step (\S+) --as NAME", out.stdout).group(1)
        cs = _cli(root, env, "plays", "countersign", play_id, "--step", step, "--as", "erin", "--key",
                  str(keys["erin"]))
        assert cs.returncode == 0, cs.stdout + cs.stderr
        out = _cli(root, env, "play", "live-start-small", "--yes", "--operator", "bob", "--resume", play_id)
    return rid, play_id, out


def test_live_session_started_by_the_playbook_orders_through_the_gateway_and_is_liquidated(tmp_path, sim, keys):
    root = _live_root(tmp_path / "desk", keys)
    env = _env(sim)
    params = ["-p", "profile=live_test", "-p", "max_notional=60"]
    # without an approval: refused before anything runs
    out = _cli(root, env, "play", "live-start-small", "--yes", "--operator", "bob", *params)
    assert out.returncode == 3 and "no live_activation approval request" in out.stdout, out.stdout + out.stderr
    # and never from the command line
    out = _cli(root, env, "session", "run", "--mode", "live", "--profile", "live_test")
    assert out.returncode in (2, 3) and "Traceback" not in out.stderr, out.stderr
    rid, play_id, out = _go_live(root, env, keys, params)
    text = out.stdout + out.stderr
    assert "succeeded  go-live" in text, text
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    [(run_id, mode, approval_id, run_play)] = con.execute(
        "SELECT run_id, mode, approval_id, play_id FROM runs WHERE mode = 'live'").fetchall()
    assert (mode, approval_id, run_play) == ("live", rid, play_id)
    # wait for the finite session to end, then: its orders are the gateway's intents, each placed once
    for _ in range(600):
        status = con.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        if status not in ("starting", "running", "stopping"):
            break
        __import__("time").sleep(0.1)
    assert status == "completed", (root / "live_runs" / run_id / "worker.out").read_text()
    intents = con.execute("SELECT client_order_id, status, quantity * 60000 FROM intents WHERE account = 'live' "
                          "AND origin = ?", (run_id,)).fetchall()
    wire = [o["cl_ord_id"] for o in sim.orders.values()]
    assert len(wire) == len(set(wire))
    placed = {cid for cid, status, _ in intents if status in ("filled", "open", "canceled")}
    assert placed <= set(wire)
    events = [json.loads(x) for x in (root / "live_runs" / run_id / "events.jsonl").read_text().splitlines()
              if x.strip()] if (root / "live_runs" / run_id / "events.jsonl").exists() else []
    assert placed, "the live session placed no order"
    # no order above the signed size (60 EUR, below the live limit of 100) ever reached the exchange
    costs = [float(o["cost"]) for o in sim.orders.values() if float(o.get("vol_exec") or 0) > 0]
    assert costs and max(costs) <= 60.0 * 1.01, costs  # the fill price may differ from the mark a little
    assert all(r.startswith("max_order_notional exceeded") and r.endswith("> 60.00)") for e in events
               for r in (e.get("risk_reasons") or []) if "max_order_notional" in r)
    # Whether the session ends long depends on the market's path, which the simulator ties to the wall clock
    # (one bar per 15 s), so the run of a given minute may end flat. A position the desk did not open (a
    # deposit, a trade on the exchange's web page) stands beside it, so there is always one to close.
    btc_key = asset("BTC")
    with sim.lock:
        sim.balances[btc_key] = sim.balances.get(btc_key, 0.0) + 0.0005
    assert sim.balances[btc_key] >= 0.0005
    # the emergency liquidation closes it through the gateway, from what the exchange reports; it is allowed
    # while the kill switch is engaged (seed 11.2: anyone may)
    assert _cli(root, env, "kill-switch", "engage", "--reason", "drill", "--operator", "erin").returncode == 0
    liq = _cli(root, env, "orders", "liquidate", "--yes")
    assert liq.returncode == 0, liq.stdout + liq.stderr
    assert sim.balances.get("XXBT", sim.balances.get("BTC", 0.0)) == pytest.approx(0.0, abs=1e-9)


@pytest.fixture
def sim_long_now():
    s = KrakenSimulator(KEY, SECRET, balances={"EUR": 10_000.0}, timeout_delay_s=0.2,
                        seed=_seed_with_a_long_signal(at_once=True))
    s.start()
    yield s
    s.stop()


def test_a_continuous_live_session_is_stopped_by_the_shutdown_playbook(tmp_path, sim_long_now, keys):
    """Runbook 5 on a live desk: `play shutdown` ends a continuous (paced, until stopped) live session
    through its orchestrator, the session closes in order, and nothing is left resting on the exchange."""
    root = _live_root(tmp_path / "desk", keys)
    cfg = root / "config" / "config.toml"
    cfg.write_text(cfg.read_text() + '\n[session.profiles.live_continuous]\nsteps = 0\nwarmup_bars = 20\n'
                   'pace = true\ndescription = "test: continuous, paced by the one-minute bar clock"\n')
    sim = sim_long_now
    env = _env(sim)
    rid, play_id, out = _go_live(root, env, keys, ["-p", "profile=live_continuous", "-p", "max_notional=60"])
    assert "succeeded  go-live" in out.stdout + out.stderr, out.stdout + out.stderr
    con = sqlite3.connect(root / "var" / "desk.sqlite")
    [(run_id, status, pid)] = con.execute("SELECT run_id, status, pid FROM runs WHERE mode = 'live'").fetchall()
    assert status == "running" and pid, status  # continuous: still trading when the start play ends
    os.kill(pid, 0)  # its process is alive

    out = _cli(root, env, "play", "shutdown", "--yes", "--operator", "bob", "-p", "reason=end of the trading day")
    assert out.returncode == 0, out.stdout + out.stderr
    status = con.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
    assert status == "stopped", status
    with pytest.raises(ProcessLookupError):  # the worker is gone, not just marked
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
    log = "".join(p.read_text() for p in (root / "live_runs" / run_id).glob("*.log"))
    assert "Shutdown complete" in log, log[-2000:]
    assert not [o for o in sim.orders.values() if o["status"] in ("pending", "open")]
