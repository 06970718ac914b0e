"""The two writes (engage the kill switch, upload an approval signature) and who may make them:
CSRF on every form, the remote token on every request, the Host check on loopback."""

from __future__ import annotations

import json

import pytest

from .conftest import TestClient, csrf_of, sign_file


def _engage(client, **fields):
    csrf = csrf_of(client.get("/kill-switch").text)
    return client.post("/kill-switch/engage", data={"csrf": csrf, **fields}, follow_redirects=True)


def test_engage_kill_switch_from_the_page(client, desk):
    from peaktrade.desk.killswitch import read_kill_switch
    from peaktrade.root import Root

    r = _engage(client, operator="alice", reason="exchange lagging <b>badly</b>")
    assert r.status_code == 200 and "Kill switch engaged" in r.text
    status = read_kill_switch(Root.resolve(desk["root"]))
    assert status.state == "KILLED" and status.by == "web:alice" and status.reason == "exchange lagging <b>badly</b>"
    assert "Kill switch: <strong>engaged</strong>" in r.text and "by web:alice" in r.text
    assert "exchange lagging &lt;b&gt;badly&lt;/b&gt;" in r.text  # the reason is shown as text
    log = (desk["root"] / "logs" / "operations.log").read_text()
    assert "web:alice" in log and "kill-switch engage" in log and "exchange lagging" in log
    metrics = client.get("/metrics").text
    assert "peaktrade_kill_switch_state 1.0" in metrics and "peaktrade_kill_switch_blocks_orders 1.0" in metrics


@pytest.mark.parametrize("fields, message", [
    ({"operator": "alice", "reason": "   "}, "a reason is required to engage the kill switch"),
    ({"operator": "", "reason": "feed down"}, "say who you are"),
    ({"operator": "al ice;rm", "reason": "feed down"}, "say who you are"),
])
def test_engage_refused_without_reason_or_name(client, desk, fields, message):
    from peaktrade.desk.killswitch import read_kill_switch
    from peaktrade.root import Root

    r = _engage(client, **fields)
    assert r.status_code == 400 and message in r.text
    assert read_kill_switch(Root.resolve(desk["root"])).state == "ACTIVE"


def test_engage_refused_without_or_with_a_forged_csrf_token(client, desk):
    from peaktrade.desk.killswitch import read_kill_switch
    from peaktrade.root import Root

    client.get("/kill-switch")
    for data in ({"operator": "alice", "reason": "x"}, {"operator": "alice", "reason": "x", "csrf": "0" * 64}):
        r = client.post("/kill-switch/engage", data=data)
        assert r.status_code == 403 and "CSRF token is missing or wrong" in r.text
    # a token from another browser (another cookie) is refused too
    other = csrf_of(client.get("/kill-switch").text)
    client.cookies.clear()
    r = client.post("/kill-switch/engage", data={"operator": "alice", "reason": "x", "csrf": other})
    assert r.status_code == 403
    assert read_kill_switch(Root.resolve(desk["root"])).state == "ACTIVE"


def _request_doc(desk):
    return json.loads((desk["root"] / "var" / "approvals" / f"{desk['request']}.json").read_text())


def _bytes(client, desk):
    return client.get(f"/approvals/{desk['request']}/bytes").content


def test_upload_signatures_until_the_approval_is_complete(client, desk):
    rid = desk["request"]
    data = _bytes(client, desk)
    page = client.get(f"/approvals/{rid}").text
    sig = sign_file(desk["keys"]["alice"], data, desk["tmp"] / "alice" / f"{rid}.json")
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf_of(page), "name": "alice"},
                    files={"signature_file": (f"{rid}.json.sig", sig.encode())})
    assert r.status_code == 200 and "alice&#39;s signature verified and recorded" in r.text
    assert 'id="approval-status">pending<' in r.text
    sig = sign_file(desk["keys"]["carol"], data, desk["tmp"] / "carol" / f"{rid}.json")
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf_of(r.text), "name": "carol", "signature": sig})
    assert r.status_code == 200 and 'id="approval-status">complete<' in r.text
    doc = _request_doc(desk)
    assert [s["name"] for s in doc["signatures"]] == ["alice", "carol"]
    assert all(s["fingerprint"].startswith("SHA256:") for s in doc["signatures"])
    log = (desk["root"] / "logs" / "operations.log").read_text()
    assert "web:alice" in log and "web:carol" in log and "approvals sign" in log and rid in log
    assert '<td class="status">complete</td>' in client.get("/approvals").text


def test_upload_refused_for_a_wrong_key_forged_or_repeated_signature(client, desk):
    rid = desk["request"]
    data = _bytes(client, desk)
    csrf = csrf_of(client.get(f"/approvals/{rid}").text)
    bob_sig = sign_file(desk["keys"]["bob"], data, desk["tmp"] / "bob" / f"{rid}.json")
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "alice", "signature": bob_sig})
    assert r.status_code == 400 and "signature refused" in r.text and "is not one of alice&#39;s keys" in r.text
    # a signature over other bytes (an edited request) does not verify either
    other = sign_file(desk["keys"]["alice"], data.replace(b"live-start-small", b"live-start-large"),
                      desk["tmp"] / "alice2" / f"{rid}.json")
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "alice", "signature": other})
    assert r.status_code == 400 and "is not one of alice&#39;s keys" in r.text
    forged = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTk=\n-----END SSH SIGNATURE-----\n"
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "alice", "signature": forged})
    assert r.status_code == 400 and "signature refused" in r.text
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "mallory", "signature": bob_sig})
    assert r.status_code == 400 and "&#39;mallory&#39; is not listed in policies/roles.yaml" in r.text
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "alice", "signature": "hello"})
    assert r.status_code == 400 and "paste or attach the .sig file" in r.text
    assert _request_doc(desk)["signatures"] == []
    good = sign_file(desk["keys"]["alice"], data, desk["tmp"] / "alice3" / f"{rid}.json")
    assert client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "alice", "signature": good}
                       ).status_code == 200
    r = client.post(f"/approvals/{rid}/signature", data={"csrf": csrf, "name": "alice", "signature": good})
    assert r.status_code == 400 and "alice has already signed" in r.text
    assert "refused" in (desk["root"] / "logs" / "operations.log").read_text()


def test_upload_refused_without_csrf(client, desk):
    rid = desk["request"]
    sig = sign_file(desk["keys"]["alice"], _bytes(client, desk), desk["tmp"] / "a" / f"{rid}.json")
    r = client.post(f"/approvals/{rid}/signature", data={"name": "alice", "signature": sig})
    assert r.status_code == 403 and "CSRF" in r.text
    assert _request_doc(desk)["signatures"] == []


TOKEN = "s3cret-token-for-the-test-0123456789"


@pytest.fixture
def remote(desk):
    from peaktrade.root import Root
    from peaktrade.web.app import create_app
    from peaktrade.web.security import Security

    app = create_app(Root.resolve(desk["root"]), Security(token=TOKEN))
    with TestClient(app, base_url="http://dash.example.test") as c:
        yield c


def test_remote_token_checked_on_every_request(remote):
    for path in ("/runs", "/metrics", "/static/htmx.min.js", "/banner", "/approvals"):
        r = remote.get(path, follow_redirects=False)
        assert r.status_code == 401, path
    assert remote.get("/runs", headers={"Accept": "text/html"}, follow_redirects=False).headers["location"] == "/login"
    r = remote.get("/metrics", headers={"Authorization": "Bearer wrong-token-wrong-token"})
    assert r.status_code == 401
    r = remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and "peaktrade_kill_switch_state" in r.text
    r = remote.post("/kill-switch/engage", data={"operator": "x", "reason": "y"})
    assert r.status_code == 401


def test_login_sets_the_token_cookie(remote, desk):
    page = remote.get("/login")
    assert page.status_code == 200 and "Token" in page.text
    r = remote.post("/login", data={"csrf": csrf_of(page.text), "token": "nope"})
    assert r.status_code == 403 and "wrong token" in r.text
    r = remote.post("/login", data={"csrf": csrf_of(page.text), "token": TOKEN}, follow_redirects=False)
    assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
    assert remote.get("/runs").status_code == 200
    # with the token cookie, the writes still need the CSRF token
    r = remote.post("/kill-switch/engage", data={"operator": "x", "reason": "y"})
    assert r.status_code == 403


def test_loopback_refuses_foreign_host_headers(client):
    r = client.get("/runs", headers={"Host": "evil.example"})
    assert r.status_code == 400 and "Host not allowed" in r.text
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765", "localhost"):
        assert client.get("/runs", headers={"Host": host}).status_code == 200, host


def test_security_headers(client):
    r = client.get("/runs")
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
