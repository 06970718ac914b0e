"""Every notifier against a real server on 127.0.0.1; one failing channel never stops the others."""

from __future__ import annotations

import io

from peaktrade.alerts.notifiers import (
    ConsoleNotifier,
    EmailNotifier,
    LogNotifier,
    TelegramNotifier,
    WebhookNotifier,
    build_notifiers,
    dispatch,
)
from peaktrade.alerts.rules import CRITICAL, WARNING, Alert
from peaktrade.clock import FakeClock
from peaktrade.root import Root

TOKEN = "123456:AAbbCCddEEffGGhhIIjj-secret-bot-token"
ALERT = Alert("pnl_drop", CRITICAL, "PnL drop 10.00% ≥ 5% within 1 h", "shadow_20251207_120000_abc123",
              {"drop_pct": 10.0})


def test_email_is_delivered_over_smtp_with_login(smtp_server, monkeypatch):
    monkeypatch.setenv("PT_SMTP_PASSWORD", "hunter2-very-secret")
    monkeypatch.setenv("PT_SMTP_USER", "alerts")
    host, port = smtp_server.server_address
    EmailNotifier({"smtp_host": host, "smtp_port": port, "sender": "pt@desk.test",
                   "recipients": ["ops@desk.test", "risk@desk.test"], "username_env": "PT_SMTP_USER",
                   "password_env": "PT_SMTP_PASSWORD"}).send(ALERT)
    [msg] = smtp_server.messages
    assert msg["from"] == "pt@desk.test"
    assert msg["rcpt"] == ["ops@desk.test", "risk@desk.test"]
    assert "Subject: [PeakTrade CRITICAL] pnl_drop shadow_20251207_120000_abc123" in msg["data"]
    assert "PnL drop 10.00%" in msg["data"]
    assert smtp_server.logins == [["alerts", "hunter2-very-secret"]]


def test_telegram_posts_send_message_to_bot_api(http_server, monkeypatch):
    monkeypatch.setenv("PT_TG_TOKEN", TOKEN)
    host, port = http_server.server_address
    TelegramNotifier({"api_base": f"http://{host}:{port}", "bot_token_env": "PT_TG_TOKEN",
                      "chat_id": "-1001"}).send(ALERT)
    [req] = http_server.requests
    assert req["path"] == f"/bot{TOKEN}/sendMessage"
    assert req["body"]["chat_id"] == "-1001"
    assert req["body"]["text"].startswith("[CRITICAL] pnl_drop run=shadow_20251207_120000_abc123: PnL drop")


def test_telegram_refusal_never_leaks_the_token(http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("PT_TG_TOKEN", TOKEN)
    http_server.reply = (401, {"ok": False, "description": f"Unauthorized for bot{TOKEN}"})
    host, port = http_server.server_address
    tg = TelegramNotifier({"api_base": f"http://{host}:{port}", "bot_token_env": "PT_TG_TOKEN", "chat_id": "1"})
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("")
    log = LogNotifier(Root(tmp_path), FakeClock())
    [d, _] = dispatch([ALERT], {"telegram": tg, "log": log}, {"CRITICAL": ["telegram"]})[::-1]
    assert d.channel == "telegram" and d.status == "failed"
    assert d.error == "telegram: HTTP 401 Unauthorized"
    assert TOKEN not in (tmp_path / "logs" / "alerts.log").read_text()


def test_webhook_posts_json_with_bearer_token(http_server, monkeypatch):
    monkeypatch.setenv("PT_HOOK_TOKEN", "hook-secret-value")
    host, port = http_server.server_address
    WebhookNotifier({"url": f"http://{host}:{port}/hooks/pt", "timeout_s": 2,
                     "auth_token_env": "PT_HOOK_TOKEN"}).send(ALERT)
    [req] = http_server.requests
    assert req["path"] == "/hooks/pt"
    assert req["headers"]["Authorization"] == "Bearer hook-secret-value"
    assert req["body"]["alert"]["rule"] == "pnl_drop" and req["body"]["alert"]["details"] == {"drop_pct": 10.0}


def test_webhook_non_2xx_is_a_failure(http_server):
    http_server.reply = (500, {"error": "boom"})
    host, port = http_server.server_address
    d = dispatch([ALERT], {"webhook": WebhookNotifier({"url": f"http://{host}:{port}/"})},
                 {"CRITICAL": ["webhook"]})
    assert [(x.channel, x.status, x.error) for x in d if x.channel == "webhook"] == [
        ("webhook", "failed", "webhook: HTTP 500 Internal Server Error")]


def test_one_server_down_does_not_stop_the_others(deploy, smtp_server, http_server, closed_port, monkeypatch):
    monkeypatch.setenv("PT_TG_TOKEN", TOKEN)
    host, port = http_server.server_address
    settings = {
        "enabled": ["log", "console", "email", "telegram", "webhook"],
        "email": {"smtp_host": "127.0.0.1", "smtp_port": closed_port, "recipients": ["ops@desk.test"],
                  "timeout_s": 2},
        "telegram": {"api_base": f"http://{host}:{port}", "bot_token_env": "PT_TG_TOKEN", "chat_id": "7"},
        "webhook": {"url": f"http://{host}:{port}/hook", "timeout_s": 2},
    }
    notifiers = build_notifiers(Root(deploy), settings, FakeClock())
    console = io.StringIO()
    notifiers["console"] = ConsoleNotifier(console)
    deliveries = dispatch([ALERT], notifiers, {"CRITICAL": ["console", "email", "telegram", "webhook"]})
    status = {d.channel: d.status for d in deliveries}
    assert status == {"log": "sent", "console": "sent", "email": "failed", "telegram": "sent", "webhook": "sent"}
    assert sorted(r["path"] for r in http_server.requests) == [f"/bot{TOKEN}/sendMessage", "/hook"]
    assert "[CRITICAL] pnl_drop" in console.getvalue()
    email_error = [d.error for d in deliveries if d.channel == "email"][0]
    assert email_error.startswith(f"email via 127.0.0.1:{closed_port}: ")


def test_missing_secret_env_is_a_clear_failure(monkeypatch):
    monkeypatch.delenv("PT_TG_NOPE", raising=False)
    tg = TelegramNotifier({"bot_token_env": "PT_TG_NOPE", "chat_id": "1", "api_base": "http://127.0.0.1:9"})
    [d] = dispatch([ALERT], {"telegram": tg, "log": _NullLog()}, {"CRITICAL": ["telegram"]})[1:]
    assert d.error == "telegram: environment variable PT_TG_NOPE is not set"


def test_levels_route_to_their_channels(deploy):
    log = LogNotifier(Root(deploy), FakeClock())
    console = ConsoleNotifier(io.StringIO())
    warn = Alert("no_events", WARNING, "quiet", "r")
    out = dispatch([warn], {"log": log, "console": console}, {"WARNING": [], "CRITICAL": ["console"]})
    assert [(d.channel, d.status) for d in out] == [("log", "sent")]  # the log always records
    assert console.stream.getvalue() == ""
    line = (deploy / "logs" / "alerts.log").read_text()
    assert line == '2025-12-07T12:00:00Z [WARNING] no_events run=r: quiet {}\n'


class _NullLog:
    name = "log"

    def send(self, alert):
        pass


def test_secrets_in_alert_details_never_reach_the_log(deploy, monkeypatch):
    monkeypatch.setenv("KRAKEN_API_SECRET", "s3cr3t-value-123456")
    alert = Alert("error_spike", WARNING, "auth failed with key s3cr3t-value-123456", "r",
                  {"api_key": "AKIA-whatever", "note": "secret s3cr3t-value-123456 leaked"})
    console = io.StringIO()
    dispatch([alert], {"log": LogNotifier(Root(deploy), FakeClock()), "console": ConsoleNotifier(console)},
             {"WARNING": ["console"]})
    text = (deploy / "logs" / "alerts.log").read_text() + console.getvalue()
    assert "s3cr3t-value-123456" not in text and "AKIA-whatever" not in text
    assert text.count("***REDACTED***") == 4


def test_raise_alert_uses_policy_channels_and_config(deploy, http_server):
    from peaktrade.alerts.engine import raise_alert

    host, port = http_server.server_address
    cfg = deploy / "config" / "config.toml"
    cfg.write_text(cfg.read_text().replace('enabled = ["log", "console"]', 'enabled = ["log", "webhook"]')
                   .replace('url = ""', f'url = "http://{host}:{port}/hook"'))
    alert = Alert("exchange_auth", CRITICAL, "ExchangeAuthenticationError: Invalid API key", "testnet_x")
    out = raise_alert(Root(deploy), alert, FakeClock())
    assert {d.channel: d.status for d in out} == {"log": "sent", "console": "skipped", "email": "skipped",
                                                  "telegram": "skipped", "webhook": "sent"}
    assert http_server.requests[0]["body"]["alert"]["rule"] == "exchange_auth"
