"""Real notifiers: log file, console, e-mail (SMTP), Telegram (Bot API), webhook (JSON POST).

Settings come from ``config/config.toml`` ``[notifiers]``; secrets (SMTP password, bot token,
webhook bearer token) only as the *names* of environment variables. Every text that leaves
here passes through the redactor, and the secret values read from the environment are
registered with it first, so a token inside a URL or an exception text is masked too.
One notifier failing never stops the others: ``dispatch`` catches per channel and reports.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from peaktrade.alerts.rules import Alert
from peaktrade.redact import redact, redact_text, register_secret

if TYPE_CHECKING:
    from peaktrade.clock import Clock
    from peaktrade.root import Root

CHANNELS = ("log", "console", "email", "telegram", "webhook")


class NotifierError(Exception):
    """A channel could not deliver (message is redacted and operator-readable)."""


class Notifier(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


@dataclass
class Delivery:
    channel: str
    rule: str
    level: str
    status: str  # sent | failed | skipped (channel not enabled in config)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "rule": self.rule, "level": self.level, "status": self.status,
                "error": self.error}


def format_alert(alert: Alert) -> str:
    run = f" run={alert.run_id}" if alert.run_id else ""
    state = " RESOLVED" if alert.status == "resolved" else ""
    play = f" -> run playbook {alert.playbook}" if alert.playbook and not state else ""
    return redact_text(f"[{alert.level}{state}] {alert.rule}{run}: {alert.message}{play}")


def _secret_from_env(var: str, what: str) -> str:
    value = os.environ.get(var, "") if var else ""
    if not value:
        raise NotifierError(f"{what}: environment variable {var or '(not configured)'} is not set")
    register_secret(value)
    return value


class LogNotifier:
    """Appends one line per alert to ``logs/alerts.log`` (the record of every alert raised)."""

    name = "log"

    def __init__(self, root: Root, clock: Clock):
        self.path = root.logs_dir / "alerts.log"
        self.clock = clock

    def send(self, alert: Alert) -> None:
        from peaktrade.clock import utc_iso
        from peaktrade.fsutil import append_line

        details = json.dumps(redact(alert.details), sort_keys=True, default=str)
        append_line(self.path, f"{utc_iso(self.clock.now())} {format_alert(alert)} {details}")


class ConsoleNotifier:
    """Prints to stderr, so ``--json`` output on stdout stays machine-readable."""

    name = "console"

    def __init__(self, stream: Any = None):
        self.stream = stream

    def send(self, alert: Alert) -> None:
        print(format_alert(alert), file=self.stream or sys.stderr, flush=True)


class EmailNotifier:
    name = "email"

    def __init__(self, settings: dict[str, Any]):
        self.host = settings.get("smtp_host", "127.0.0.1")
        self.port = int(settings.get("smtp_port", 25))
        self.sender = settings.get("sender", "peaktrade@localhost")
        self.recipients = list(settings.get("recipients") or [])
        self.use_tls = bool(settings.get("use_tls", False))
        self.username_env = settings.get("username_env", "")
        self.password_env = settings.get("password_env", "")
        self.timeout = float(settings.get("timeout_s", 10.0))

    def send(self, alert: Alert) -> None:
        import smtplib
        import ssl
        from email.message import EmailMessage

        if not self.recipients:
            raise NotifierError("email: no recipients configured ([notifiers.email].recipients)")
        user = os.environ.get(self.username_env, "") if self.username_env else ""
        password = _secret_from_env(self.password_env, "email") if self.password_env else ""
        msg = EmailMessage()
        msg["Subject"] = redact_text(f"[PeakTrade {alert.level}] {alert.rule} {alert.run_id}".strip())
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        body = format_alert(alert) + "\n\n" + json.dumps(redact(alert.details), indent=2, default=str)
        msg.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if user and password:
                    smtp.login(user, password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifierError(redact_text(f"email via {self.host}:{self.port}: {exc}")) from None


def _post_json(url: str, payload: dict[str, Any], timeout: float, what: str,
               headers: dict[str, str] | None = None) -> bytes:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(payload, default=str).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - URL comes from config
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise NotifierError(f"{what}: HTTP {exc.code} {redact_text(str(exc.reason))}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifierError(f"{what}: {redact_text(str(reason))}") from None


class TelegramNotifier:
    name = "telegram"

    def __init__(self, settings: dict[str, Any]):
        self.api_base = str(settings.get("api_base", "https://api.telegram.org")).rstrip("/")
        self.token_env = settings.get("bot_token_env", "")
        self.chat_id = str(settings.get("chat_id", ""))
        self.timeout = float(settings.get("timeout_s", 10.0))

    def send(self, alert: Alert) -> None:
        if not self.chat_id:
            raise NotifierError("telegram: no chat_id configured ([notifiers.telegram].chat_id)")
        token = _secret_from_env(self.token_env, "telegram")
        # the token is part of the URL: the URL itself is never logged or put into an error
        raw = _post_json(f"{self.api_base}/bot{token}/sendMessage",
                         {"chat_id": self.chat_id, "text": format_alert(alert)}, self.timeout, "telegram")
        try:
            reply = json.loads(raw or b"{}")
        except ValueError:
            raise NotifierError("telegram: reply is not JSON") from None
        if not reply.get("ok"):
            raise NotifierError(f"telegram: API refused: {redact_text(str(reply.get('description', reply)))}")


class WebhookNotifier:
    name = "webhook"

    def __init__(self, settings: dict[str, Any]):
        self.url = str(settings.get("url", ""))
        self.timeout = float(settings.get("timeout_s", 5.0))
        self.auth_env = settings.get("auth_token_env", "")

    def send(self, alert: Alert) -> None:
        if not self.url:
            raise NotifierError("webhook: no url configured ([notifiers.webhook].url)")
        headers = {}
        if self.auth_env:
            headers["Authorization"] = "Bearer " + _secret_from_env(self.auth_env, "webhook")
        payload = {"source": "peaktrade", "text": format_alert(alert), "alert": redact(alert.to_dict())}
        _post_json(self.url, payload, self.timeout, "webhook", headers)


def build_notifiers(root: Root, settings: dict[str, Any], clock: Clock) -> dict[str, Notifier]:
    """The channels ``[notifiers].enabled`` lists, configured; ``log`` is always present."""
    factories: dict[str, Callable[[], Notifier]] = {
        "log": lambda: LogNotifier(root, clock),
        "console": ConsoleNotifier,
        "email": lambda: EmailNotifier(settings.get("email") or {}),
        "telegram": lambda: TelegramNotifier(settings.get("telegram") or {}),
        "webhook": lambda: WebhookNotifier(settings.get("webhook") or {}),
    }
    enabled = {"log", *(settings.get("enabled") or ["log", "console"])}
    return {name: factories[name]() for name in CHANNELS if name in enabled}


def dispatch(alerts: Sequence[Alert], notifiers: dict[str, Notifier],
             channels: dict[str, list[str]]) -> list[Delivery]:
    """Send each alert to its level's channels; a failing channel is recorded, the rest go on.

    Every alert is recorded by the ``log`` channel, whatever the policy says for its level.
    """
    out: list[Delivery] = []
    for alert in alerts:
        wanted = ["log", *[c for c in channels.get(alert.level, []) if c != "log"]]
        for channel in wanted:
            notifier = notifiers.get(channel)
            if notifier is None:
                out.append(Delivery(channel, alert.rule, alert.level, "skipped",
                                    "not enabled in config.toml [notifiers].enabled"))
                continue
            try:
                notifier.send(alert)
            except NotifierError as exc:
                out.append(Delivery(channel, alert.rule, alert.level, "failed", str(exc)))
            except Exception as exc:  # noqa: BLE001 - one channel must never take the others down
                out.append(Delivery(channel, alert.rule, alert.level, "failed",
                                    redact_text(f"{channel}: {type(exc).__name__}: {exc}")))
            else:
                out.append(Delivery(channel, alert.rule, alert.level, "sent"))
    return out
