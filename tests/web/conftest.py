"""A desk for the dashboard tests: runs (active, ended, stale, lost), alerts, a play with a checklist and
an incident report, approval requests and people whose SSH keys are real (made here with ssh-keygen)."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytest.importorskip("starlette", reason="the dashboard needs the web extra: pip install -e '.[web]'")
with warnings.catch_warnings():  # Starlette 1.x would like httpx2 behind its test client; httpx drives it fully
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def keypair(base: Path, name: str) -> tuple[Path, str]:
    key = base / "keys" / name
    key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text().strip()


def make_root(base: Path, *, mode: str = "paper") -> Path:
    base.mkdir(parents=True, exist_ok=True)
    for d in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(REPO / d, base / d)
    cfg = base / "config" / "config.toml"
    cfg.write_text(re.sub(r'(?m)^mode = ".*"$', f'mode = "{mode}"', cfg.read_text(), count=1))
    (base / "live_runs").mkdir(exist_ok=True)
    return base


def set_people(root: Path, keys: dict[str, str]) -> None:
    """Give alice, bob and carol of the shipped roles.yaml the public keys made here."""
    path = root / "policies" / "roles.yaml"
    text = path.read_text()
    for name, pub in keys.items():
        text = re.sub(rf"(- name: {name}\n\s+roles: \[[^\]]*\]\n\s+keys:\n\s+- ).*", lambda m, p=pub: m.group(1) + p,
                      text)
    path.write_text(text)


def write_request(root: Path, key: Path, *, requester: str = "bob",
                  expires_in: timedelta = timedelta(hours=2)) -> str:
    """A live_activation request for live-start-small, made as ``approvals request`` makes it (signed by the
    requester's key)."""
    from peaktrade.policy.approvals import create_request, playbook_subject
    from peaktrade.root import Root

    r = Root.resolve(root)
    doc = create_request(r, "live_activation", playbook_subject(r, "live-start-small", {}), requester=requester,
                         expires_in=expires_in, requester_key=key)
    return doc["request"]["id"]


def sign_file(key: Path, data: bytes, where: Path) -> str:
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_bytes(data)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", "peaktrade", "-f", str(key), str(where)], check=True,
                   capture_output=True)
    return where.with_name(where.name + ".sig").read_text()


def add_runs(root: Path) -> None:
    from peaktrade.desk import open_desk
    from peaktrade.desk.store import RunRecord
    from peaktrade.monitor.synthetic import make_events, write_run
    from peaktrade.root import Root

    now = datetime.now(UTC).replace(microsecond=0)
    live = root / "live_runs"
    fresh = make_events(40, start=now - timedelta(seconds=40), every_s=1.0,
                        equity=[10_000 + 5 * (i % 7) - i for i in range(40)],
                        orders_blocked=[1 if i == 39 else 0 for i in range(40)],
                        risk_allowed=[i != 39 for i in range(40)],
                        risk_reasons=[["kill switch is engaged (web test)"] if i == 39 else [] for i in range(40)])
    write_run(live, "shadow_20260101_000001_aaaaaa", fresh, meta={"status": "running"})
    old = make_events(30, start=now - timedelta(hours=3), every_s=60.0)
    write_run(live, "shadow_20260101_000002_bbbbbb", old, meta={"status": "running"})
    done = make_events(20, start=now - timedelta(days=1), every_s=60.0, equity=[10_000 + i for i in range(20)])
    write_run(live, "testnet_20260101_000003_cccccc", done,
              meta={"status": "completed", "ended_at": done[-1]["ts_event"]})
    write_run(live, "shadow_20260101_000004_dddddd", make_events(5, start=now - timedelta(hours=1)),
              meta={"status": "running"})
    store = open_desk(Root.resolve(root))
    for run_id, status in (("shadow_20260101_000001_aaaaaa", "running"), ("shadow_20260101_000002_bbbbbb", "running"),
                           ("shadow_20260101_000004_dddddd", "lost")):
        store.add_run(RunRecord(run_id=run_id, mode="shadow", strategy="ma_crossover", symbol="BTC/EUR",
                                timeframe="1m", profile="standard", status=status,
                                status_note="process gone" if status == "lost" else ""))


def add_alerts(root: Path) -> None:
    from peaktrade.desk import open_desk
    from peaktrade.desk.store import AlertRow
    from peaktrade.root import Root

    store = open_desk(Root.resolve(root))
    store.put_alert(AlertRow(key="no_events|shadow_20260101_000002_bbbbbb", rule="no_events",
                             run_id="shadow_20260101_000002_bbbbbb", severity="CRITICAL", status="firing",
                             message="no events for 3 h", playbook="incident-data-feed",
                             first_fired="2026-01-01T00:00:00Z", last_notified=None))
    store.put_alert(AlertRow(key="pnl_drop|testnet_20260101_000003_cccccc", rule="pnl_drop",
                             run_id="testnet_20260101_000003_cccccc", severity="WARNING", status="resolved",
                             message="PnL fell 6 % in 1 h", playbook="incident-pnl-divergence",
                             first_fired="2026-01-01T00:00:00Z", last_notified=None,
                             resolved_at="2026-01-01T01:00:00Z"))


def add_play(root: Path, play_id: str = "20260101-000000-abcdef") -> str:
    from peaktrade.playbook.journal import Journal

    j = Journal(root / "var" / "plays" / play_id / "journal.jsonl")
    j.append("play_started", play_id=play_id, playbook="health-check", operator="alice", mode="paper",
             plan=[{"id": "disk", "title": "Check disk", "kind": "action", "effect": "read"}], params={})
    j.append("guard_evaluated", playbook="health-check", frame="", guard="kill_switch", value="released", ok=True,
             message="kill switch released")
    j.append("step_started", step="disk", id="disk", title="Check disk", kind="action", effect="read",
             operator="alice")
    j.append("step_finished", step="disk", status="failed", operator="alice", duration_s=0.01,
             summary="disk <b>90 %</b> full")
    j.append("play_finished", outcome="failed", reason="step disk failed")
    j.close()
    from peaktrade.playbook.seal import seal
    from peaktrade.root import Root

    seal(Root.resolve(root), play_id, outcome="failed", operator="alice", identity=None, key=None)
    (root / "reports" / "checklists").mkdir(parents=True, exist_ok=True)
    (root / "reports" / "checklists" / f"2026-01-01_health-check_{play_id}.md").write_text(
        "# Checklist: health-check\n\n| Step | Status |\n|---|---|\n| `disk` | failed |\n\n"
        "<script>alert('x')</script>\n\n[link](javascript:alert(1))\n")
    (root / "reports" / "incidents").mkdir(parents=True, exist_ok=True)
    (root / "reports" / "incidents" / f"2026-01-01_health-check_{play_id}.md").write_text(
        "# Incident: health-check: play failed\n\n| Field | Value |\n|---|---|\n| Status | open |\n")
    (root / "reports" / "incidents" / "2025-12-01_shutdown_zzz.md").write_text(
        "# Incident: old one\n\n| Field | Value |\n|---|---|\n| Status | closed |\n")
    return play_id


@pytest.fixture
def desk(tmp_path: Path) -> dict:
    root = make_root(tmp_path / "desk")
    keys = {n: keypair(tmp_path, n) for n in ("alice", "bob", "carol")}
    set_people(root, {n: pub for n, (_, pub) in keys.items()})
    add_runs(root)
    add_alerts(root)
    play_id = add_play(root)
    rid = write_request(root, keys["bob"][0])
    return {"root": root, "keys": {n: k for n, (k, _) in keys.items()}, "play_id": play_id, "request": rid,
            "tmp": tmp_path}


@pytest.fixture
def client(desk):
    from peaktrade.root import Root
    from peaktrade.web.app import create_app

    with TestClient(create_app(Root.resolve(desk["root"])), base_url="http://127.0.0.1:8765") as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, "no CSRF field in the form"
    return m.group(1)
