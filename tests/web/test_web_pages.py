"""Every page of the dashboard through Starlette's test client, over a desk with real files and SQLite."""

from __future__ import annotations

import re

import pytest


def test_runs_page_shows_active_ended_stale_and_lost_runs(client):
    html = client.get("/runs").text
    for run_id in ("shadow_20260101_000001_aaaaaa", "shadow_20260101_000002_bbbbbb", "testnet_20260101_000003_cccccc",
                   "shadow_20260101_000004_dddddd"):
        assert f'href="/runs/{run_id}"' in html
    row = re.search(r'<tr class="([^"]*)" data-run-id="shadow_20260101_000002_bbbbbb"', html)
    assert row and "stale" in row.group(1)  # running, silent for 3 h (> 10 min)
    fresh = re.search(r'<tr class="([^"]*)" data-run-id="shadow_20260101_000001_aaaaaa"', html)
    assert fresh and "stale" not in fresh.group(1)
    assert 'class=" status-lost" data-run-id="shadow_20260101_000004_dddddd"' in html
    assert "process gone" in html
    lost = html.split('data-run-id="shadow_20260101_000004_dddddd"')[1].split("</tr>")[0]
    assert "needs attention" in lost and "peaktrade runs ack --run-id shadow_20260101_000004_dddddd" in lost
    assert client.get("/").text.count("data-run-id=") == 4


def test_runs_table_has_a_host_column_with_a_dash_on_a_one_host_desk(client):
    """A one-host desk (SQLite desk state) knows no hosts: the Host column says "-" on every row, as the HOST
    column of ``monitor overview`` does; no row says where else it runs."""
    html = client.get("/runs").text
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", html, re.S).group(1)
    assert re.findall(r"<th>(\w+)</th>", head)[:3] == ["Run", "Host", "Status"]
    hosts = re.findall(r'<td class="host">([^<]*)</td>', html)
    assert hosts == ["-"] * 4
    assert "runs on host" not in html and "copy not verified" not in html
    fresh = html.split('data-run-id="shadow_20260101_000001_aaaaaa"')[1].split("</tr>")[0]
    assert '<td class="n">40</td>' in fresh  # this host's runs keep their figures


def test_every_page_has_the_banner(client):
    for path in ("/runs", "/alerts", "/plays", "/incidents", "/approvals", "/kill-switch"):
        html = client.get(path).text
        assert 'id="kill-switch-state"' in html and "Kill switch: <strong>released</strong>" in html, path
        assert 'id="live-gate"' in html and "Live gate: <strong>closed</strong>" in html
        assert "live.enabled not true" in html
        assert 'id="desk-stage"' in html
        assert "Open incidents: <a href=\"/incidents\"><strong>1</strong>" in html  # the closed one is not counted
        assert "Firing alerts: <a href=\"/alerts\"><strong>1</strong>" in html


def test_polling_gets_the_content_only(client):
    full = client.get("/runs").text
    part = client.get("/runs", headers={"HX-Request": "true"}).text
    assert "<html" in full and 'hx-trigger="every 3s"' in full and "/static/htmx.min.js" in full
    assert "<html" not in part and "banner" not in part and 'data-run-id="shadow_20260101_000001_aaaaaa"' in part
    banner = client.get("/banner").text
    assert banner.lstrip().startswith('<div id="banner"') and "<html" not in banner


def test_run_page_charts_events_and_risk_reasons(client):
    html = client.get("/runs/shadow_20260101_000001_aaaaaa").text
    assert '<svg id="equity-chart"' in html and '<svg id="drawdown-chart"' in html
    assert re.search(r'<polyline class="line-a" data-series="equity" data-points="40"', html)
    assert re.search(r'<polyline class="line-dd" data-series="drawdown" data-points="40"', html)
    assert "kill switch is engaged (web test)" in html  # the last event's risk reason
    assert 'id="events"' in html and 'id="orders"' in html and "no open orders" in html
    assert 'id="run-events">40<' in html


def test_unknown_or_malformed_run_is_404(client):
    r = client.get("/runs/shadow_19990101_000000_000000")
    assert r.status_code == 404 and "unknown run id" in r.text
    assert client.get("/runs/..%2Fetc").status_code == 404


def test_alerts_page_firing_and_resolved_with_playbook(client):
    html = client.get("/alerts").text
    assert '<tr class="alert-firing"><td>firing</td><td>CRITICAL</td><td>no_events</td>' in html
    assert "<code>peaktrade play incident-data-feed</code>" in html
    assert '<tr class="alert-resolved"><td>resolved</td><td>WARNING</td><td>pnl_drop</td>' in html
    assert "<code>peaktrade play incident-pnl-divergence</code>" in html


def test_plays_list_and_play_with_integrity(client, desk):
    pid = desk["play_id"]
    html = client.get("/plays").text
    assert f'href="/plays/{pid}"' in html and "health-check" in html and "alice" in html
    assert '<td class="ok">ok</td>' in html and "failed" in html
    html = client.get(f"/plays/{pid}").text
    assert "<strong class=\"ok\">ok</strong>" in html
    assert "disk &lt;b&gt;90 %&lt;/b&gt; full" in html  # journal text is escaped
    assert f'href="/reports/checklists/2026-01-01_health-check_{pid}.md"' in html
    assert f'href="/reports/incidents/2026-01-01_health-check_{pid}.md"' in html
    assert "kill_switch: kill switch released" in html


def test_tampered_journal_shows_tampered(client, desk):
    path = desk["root"] / "var" / "plays" / desk["play_id"] / "journal.jsonl"
    path.write_text(path.read_text().replace('"operator":"alice"', '"operator":"mallory"', 1))
    assert '<td class="missing">TAMPERED (chain' in client.get("/plays").text
    html = client.get(f"/plays/{desk['play_id']}").text
    assert "TAMPERED" in html and "content does not match its hash" in html


def test_a_rebuilt_journal_is_caught_by_the_desk_records(client, desk):
    """A chain recomputed after an edit verifies on its own; the desk state's head (plays verify) does not."""
    import json

    from peaktrade.playbook.journal import GENESIS, record_hash

    path = desk["root"] / "var" / "plays" / desk["play_id"] / "journal.jsonl"
    prev, lines = GENESIS, []
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        rec["operator"] = "mallory" if "operator" in rec else rec.get("operator")
        rec = {k: v for k, v in rec.items() if v is not None and k != "hash"} | {"prev_hash": prev}
        rec["hash"] = prev = record_hash(rec)
        lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    path.write_text("\n".join(lines) + "\n")
    (path.parent / "journal.head").write_text(f"{len(lines):012d} {prev}\n")
    html = client.get("/plays").text
    assert '<td class="missing">TAMPERED (rebuilt' in html


def test_reports_rendered_from_markdown_safely(client, desk):
    html = client.get(f"/reports/checklists/2026-01-01_health-check_{desk['play_id']}.md").text
    assert "<table>" in html and "<code>disk</code>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert client.get("/reports/checklists/..%2F..%2Fconfig%2Fconfig.toml").status_code == 404
    assert client.get("/reports/other/x.md").status_code == 404


def test_incidents_list_with_status(client):
    html = client.get("/incidents").text
    assert "health-check: play failed" in html and "<td>open</td>" in html
    assert "old one" in html and "<td>closed</td>" in html


def test_approvals_list_and_request_detail(client, desk):
    rid = desk["request"]
    html = client.get("/approvals").text
    assert f'href="/approvals/{rid}"' in html and "live_activation" in html and "pending" in html
    assert "missing an owner, another person" in html  # the reason `approvals list` gives
    for name in ("alice", "bob", "carol"):
        assert f"<td>{name}</td>" in html
    assert re.search(r"<code>ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}</code>", html)
    html = client.get(f"/approvals/{rid}").text
    assert f"ssh-keygen -Y sign -n peaktrade -f ~/.ssh/id_ed25519 {rid}.json" in html
    assert 'id="request-bytes"' in html and f"&#34;id&#34;:&#34;{rid}&#34;" in html
    raw = client.get(f"/approvals/{rid}/bytes")
    from peaktrade.policy.approvals import load_request, request_bytes
    from peaktrade.root import Root

    assert raw.content == request_bytes(load_request(Root.resolve(desk["root"]), rid))
    assert client.get("/approvals/not-a-request-id").status_code == 404


def test_fingerprint_matches_ssh_keygen(desk):
    import subprocess

    from peaktrade.web.approvals import fingerprint

    pub = desk["keys"]["alice"].with_suffix(".pub")
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], capture_output=True, text=True, check=True).stdout
    assert fingerprint(pub.read_text()) == out.split()[1]


def test_divergence_page_says_what_is_missing(client):
    html = client.get("/runs/testnet_20260101_000003_cccccc/divergence").text
    assert '<svg id="divergence-chart"' in html and 'data-series="run"' in html
    # no candles on disk for a synthetic run: the run's curve alone, and the page says why
    if 'data-series="backtest"' not in html:
        assert 'class="missing"' in html


@pytest.mark.parametrize("path", ["/static/htmx.min.js", "/static/htmx.LICENSE", "/static/style.css"])
def test_static_files(client, path):
    r = client.get(path)
    assert r.status_code == 200 and len(r.content) > 100


def test_runs_table_follows_new_events_new_runs_and_status_changes(client, desk):
    import json

    from peaktrade.monitor.synthetic import make_events, write_run

    live = desk["root"] / "live_runs"
    run = "shadow_20260101_000001_aaaaaa"
    assert re.search(rf'data-run-id="{run}">.*?<td class="n">40</td>', client.get("/runs").text, re.S)
    last = json.loads((live / run / "events.jsonl").read_text().splitlines()[-1])
    with open(live / run / "events.jsonl", "a") as fh:
        for k in (1, 2):
            fh.write(json.dumps({**last, "step": last["step"] + k, "equity": 9_000.0}) + "\n")
    html = client.get("/runs").text
    assert re.search(rf'data-run-id="{run}">.*?<td class="n">42</td>.*?9,000.00', html, re.S)
    from datetime import UTC, datetime

    write_run(live, "shadow_20260101_000005_eeeeee", make_events(3, start=datetime.now(UTC)),
              meta={"status": "running"})
    assert 'data-run-id="shadow_20260101_000005_eeeeee"' in client.get("/runs").text
    meta = json.loads((live / run / "meta.json").read_text())
    (live / run / "meta.json").write_text(json.dumps({**meta, "status": "crashed"}))
    html = client.get("/runs").text
    assert f'<tr class=" status-crashed" data-run-id="{run}"' in html  # meta.json says so; not stale: not active
    assert "needs attention" in html.split(f'data-run-id="{run}"')[1].split("</tr>")[0]
    (live / run / "ack.json").write_text(json.dumps({"by": "alice", "note": "seen"}))
    assert "needs attention" not in client.get("/runs").text.split(f'data-run-id="{run}"')[1].split("</tr>")[0]


def test_static_pages_do_not_poll(client, desk):
    assert 'hx-trigger="every 3s"' in client.get("/approvals").text.split('id="content"')[1][:120]
    for path in ("/runs/testnet_20260101_000003_cccccc/divergence", "/kill-switch", "/runs/nope",
                 f"/reports/incidents/2026-01-01_health-check_{desk['play_id']}.md"):
        html = client.get(path).text
        assert '<main id="content">' in html, path  # the banner still polls by itself
        assert 'id="banner" hx-get="/banner"' in html


def test_a_broken_desk_state_reads_engaged_and_every_page_still_renders(client, desk):
    from peaktrade.desk import reset_cache

    client.get("/runs")
    path = desk["root"] / "var" / "desk.sqlite"
    for extra in ("-wal", "-shm"):
        (path.parent / (path.name + extra)).unlink(missing_ok=True)
    path.unlink()
    path.write_bytes(b"this is not a database" * 100)
    reset_cache()
    for page in ("/runs", "/alerts", "/plays", "/approvals", "/kill-switch", "/runs/shadow_20260101_000001_aaaaaa"):
        r = client.get(page)
        assert r.status_code == 200, (page, r.text[-500:])
        assert "Kill switch: <strong>engaged</strong>" in r.text, page  # fail closed, as every order path reads it
    assert "peaktrade_kill_switch_state 1.0" in client.get("/metrics").text
