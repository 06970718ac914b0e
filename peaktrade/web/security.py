"""Who may read and write: the remote token, the CSRF token, the Host check.

* **Remote token** (``--allow-remote``; the value comes from ``$PEAKTRADE_WEB_TOKEN``): every request
  but ``/login`` must carry it, as ``Authorization: Bearer …`` (scrapers, scripts) or as the cookie the
  login form sets (browsers). Compared in constant time.
* **CSRF**: each browser gets a random cookie; a form carries HMAC(server secret, cookie). A page of
  another site can make the browser send the cookie but cannot read the page to learn the HMAC.
* **Host**: on loopback the ``Host`` header must name the loopback (or an ``--allowed-host``): a DNS
  rebinding page that resolves its own name to 127.0.0.1 is refused before it can read a form.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

TOKEN_ENV = "PEAKTRADE_WEB_TOKEN"
TOKEN_COOKIE = "peaktrade_token"
CSRF_COOKIE = "peaktrade_csrf"
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Security:
    token: str | None = None  # None: loopback only, no token asked
    allowed_hosts: tuple[str, ...] = ()
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def token_ok(self, header: str | None, cookie: str | None) -> bool:
        if self.token is None:
            return True
        given = ""
        if header and header.lower().startswith("bearer "):
            given = header[7:].strip()
        elif cookie:
            given = cookie
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())

    def host_ok(self, host_header: str | None) -> bool:
        if self.token is not None and not self.allowed_hosts:
            return True  # a remote bind checks the token on every request instead
        host = (host_header or "").strip().lower()
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
        if name.startswith("[") and "]" in name:
            name = name[: name.index("]") + 1]
        return name in LOOPBACK_NAMES or name in self.allowed_hosts

    def csrf_for(self, cookie: str) -> str:
        return hmac.new(self.secret, cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, cookie: str | None, field_value: str | None) -> bool:
        if not cookie or not field_value:
            return False
        return hmac.compare_digest(self.csrf_for(cookie), field_value)


def new_cookie() -> str:
    return secrets.token_urlsafe(24)
