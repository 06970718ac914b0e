"""End to end in headless Chromium: a real `peaktrade serve` (uvicorn, free loopback port), a real shadow
session (`peaktrade session run` in its own process), and the page driven over the DevTools protocol.

Screenshots of the main pages are kept under the test's tmp dir (and copied to $PEAKTRADE_SCREENSHOTS
when set; docs/img/ holds two of them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .cdp import Browser, chromium
from .conftest import keypair, make_root, set_people, sign_file, write_request

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed (.ci/run installs "
                                 "it with apt-get; here: apt-get install chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the dashboard did not answer at {url}")


@pytest.fixture
def served(tmp_path):
    root = make_root(tmp_path / "desk")
    cfg = root / "config" / "config.toml"
    cfg.write_text(re.sub(r"(?m)^bar_seconds = .*$", "bar_seconds = 0.25", cfg.read_text(), count=1))
    keys = {n: keypair(tmp_path, n) for n in ("alice", "bob", "carol")}
    set_people(root, {n: pub for n, (_, pub) in keys.items()})
    rid = write_request(root, keys["bob"][0])
    port = _free_port()
    env = {**os.environ, "PEAKTRADE_WEB_TOKEN": ""}
    server = subprocess.Popen([sys.executable, "-m", "peaktrade", "--root", str(root), "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_http(f"http://127.0.0.1:{port}/runs")
        served = {"root": root, "url": f"http://127.0.0.1:{port}", "keys": {n: k for n, (k, _) in keys.items()},
                  "request": rid, "tmp": tmp_path}
        yield served
    finally:
        session = served.get("session") if "served" in locals() else None
        if session is not None and session.poll() is None:
            session.terminate()  # SIGTERM: the session ends gracefully after the current bar
            try:
                session.wait(timeout=30)
            except subprocess.TimeoutExpired:
                session.kill()
                session.wait(timeout=10)
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _start_session(served: dict) -> str:
    """A real shadow session (`peaktrade session run`, until SIGTERM) in its own process; its run id."""
    root = served["root"]
    served["session"] = subprocess.Popen(
        [sys.executable, "-m", "peaktrade", "--root", str(root), "session", "run", "--mode", "shadow",
         "--profile", "standard", "--strategy", "ma_crossover", "--symbol", "BTC/EUR", "--timeframe", "1m"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        found = [p.name for p in (root / "live_runs").iterdir() if (p / "events.jsonl").is_file()]
        if found:
            return found[0]
        assert served["session"].poll() is None, served["session"].stderr.read().decode()
        time.sleep(0.1)
    raise AssertionError("the session logged no event in 60 s")


def _shots(tmp_path: Path) -> Path:
    return tmp_path / "screenshots"


def _keep(shot: Path) -> None:
    target = os.environ.get("PEAKTRADE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)


def test_dashboard_in_chromium(served):
    url, root, tmp = served["url"], served["root"], served["tmp"]
    with Browser(tmp / "chromium-profile") as browser:
        page = browser.page()
        page.goto(f"{url}/runs")
        assert page.eval("document.querySelector('#kill-switch-state strong').textContent") == "released"
        assert page.eval("document.querySelectorAll('tr[data-run-id]').length") == 0

        # a session starts while the page is open: htmx polling brings its row, no reload
        run_id = _start_session(served)
        page.eval("window.loadedOnce = true")  # survives polling, not a reload
        page.wait(f"document.querySelector('tr[data-run-id=\"{run_id}\"]') !== null", what="the run's row")
        assert page.eval("window.loadedOnce") is True
        row = f"document.querySelector('tr[data-run-id=\"{run_id}\"]').textContent"
        page.wait(f"{row}.includes('running') && !{row}.includes('stale')", what="the run shown running")
        _keep(page.screenshot(_shots(tmp) / "dashboard-runs.png"))

        # its chart grows through polling
        page.goto(f"{url}/runs/{run_id}")
        points = "Number(document.querySelector('#equity-chart polyline')?.dataset.points || 0)"
        first = page.wait(f"{points} >= 3 && {points}", what="an equity curve")
        page.eval("window.loadedOnce = true")
        page.wait(f"{points} > {first} + 3", what="the chart to grow")
        assert page.eval("window.loadedOnce") is True
        assert page.eval("document.querySelector('#drawdown-chart polyline') !== null")

        # backtest vs run (seed 9.3 step 4): both equity curves over the run's window
        page.goto(f"{url}/runs/{run_id}/divergence")
        series = page.eval("[...document.querySelectorAll('#divergence-chart polyline')].map(p => p.dataset.series)")
        missing = page.eval("[...document.querySelectorAll('p.missing')].map(p => p.textContent)")
        assert series == ["run", "backtest"], (series, missing)
        _keep(page.screenshot(_shots(tmp) / "dashboard-divergence.png"))

        # engage the kill switch from the page; the session blocks its next order
        page.goto(f"{url}/kill-switch")
        page.eval("document.querySelector('#operator').value = 'alice';"
                  "document.querySelector('#reason').value = 'browser test: stop all orders';"
                  "document.querySelector('#engage').click()")
        page.wait("location.search.includes('engaged=1') && document.readyState === 'complete'", what="engaged")
        assert page.eval("document.querySelector('#kill-switch-state strong').textContent") == "engaged"
        assert "web:alice" in page.eval("document.querySelector('#kill-switch-state').textContent")
        _keep(page.screenshot(_shots(tmp) / "dashboard-kill-switch.png"))
        assert "web:alice" in (root / "logs" / "operations.log").read_text()
        page.goto(f"{url}/runs/{run_id}")
        page.wait("document.querySelector('#events').textContent.includes('kill switch')", timeout=90,
                  what="an order blocked by the kill switch (ma_crossover trades every few bars)")
        _keep(page.screenshot(_shots(tmp) / "dashboard-run.png"))
        events = [json.loads(line) for line in (root / "live_runs" / run_id / "events.jsonl").read_text().splitlines()]
        blocked = [e for e in events if e.get("orders_blocked")]
        assert blocked and all(any("kill switch" in r for r in e["risk_reasons"]) for e in blocked)

        # two signatures uploaded (one as a file, one pasted): the approval becomes complete
        rid = served["request"]
        with urllib.request.urlopen(f"{url}/approvals/{rid}/bytes") as r:
            data = r.read()
        page.goto(f"{url}/approvals/{rid}")
        assert page.eval("document.querySelector('#approval-status').textContent") == "pending"
        alice_sig = tmp / "alice" / f"{rid}.json"
        sign_file(served["keys"]["alice"], data, alice_sig)
        page.eval("document.querySelector('#signer-name').value = 'alice'")
        page.set_file("#signature-file", alice_sig.with_name(alice_sig.name + ".sig"))
        page.eval("document.querySelector('#upload-signature').click()")
        page.wait("document.querySelector('#form-message.ok')?.textContent.includes('alice')", what="alice recorded")
        carol = sign_file(served["keys"]["carol"], data, tmp / "carol" / f"{rid}.json")
        page.eval(f"document.querySelector('#signer-name').value = 'carol';"
                  f"document.querySelector('#signature-text').value = {json.dumps(carol)};"
                  "document.querySelector('#upload-signature').click()")
        page.wait("document.querySelector('#form-message.ok')?.textContent.includes('carol')", what="carol recorded")
        assert page.eval("document.querySelector('#approval-status').textContent") == "complete"
        _keep(page.screenshot(_shots(tmp) / "dashboard-approval.png"))
        page.goto(f"{url}/approvals")
        assert page.eval("document.querySelector('#approvals td.status').textContent") == "complete"
