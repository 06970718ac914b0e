"""The one secrets redactor, used by the journal, the logs, the reports and the event files.

Two rules: a mapping key that looks secret (``*secret*``, ``*key*``, ``*token*``, ``*password*``,
``*passphrase*``, ``*credential*``) has its value replaced; and any value of a currently known secret
(registered at runtime, e.g. the API key read from the environment, plus the values of environment
variables whose names look secret) is masked wherever it appears inside a string.

Secrets are also registered by declaration, whatever their names: every environment variable named
by a ``*_env`` key of config.toml (``register_secret_env``, at config load) and every playbook param
declared ``secret: true`` (``register_secret``, at play start).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "***REDACTED***"
_SECRET_NAME = re.compile(r"(secret|key|token|password|passwd|passphrase|credential|signature)", re.I)
# Names that contain "key" but are not secrets.
_NOT_SECRET = re.compile(
    r"^(key_fingerprint|fingerprints?|keys_present|.*_env|public_keys?|ssh_keys?|key_path|risk_reasons)$", re.I
)
_MIN_SECRET_LEN = 6

_known: set[str] = set()
_env_names: set[str] = set()  # environment variables declared secret by the config (*_env keys)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.match(name)


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is masked wherever it appears later."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _known.add(value)


def register_secret_env(name: str) -> None:
    """Treat the environment variable ``name`` as a secret (its value, now and later, is masked)."""
    if name:
        _env_names.add(name)


def secret_env_names() -> set[str]:
    """Environment variables holding secrets: declared by the config, or named like secrets."""
    return set(_env_names) | {k for k in os.environ if is_secret_name(k)}


# (environment as bytes, declared names, known values count, the secrets longest first): every journal record,
# log line and event is redacted, and scanning the environment with the name pattern each time cost more
# than the rest of a playbook step. The cache is checked against a copy of the whole environment (a C-level
# dict comparison), so a variable set, changed or removed since is seen at once.
_cache: tuple[dict, frozenset[str], int, tuple[str, ...]] | None = None


def _env_secrets() -> set[str]:
    return {v for k, v in os.environ.items()
            if (k in _env_names or is_secret_name(k)) and v and len(v) >= _MIN_SECRET_LEN}


def _secrets() -> tuple[str, ...]:
    global _cache
    data = getattr(os.environ, "_data", None)  # CPython's os._Environ keeps the raw mapping here
    c = _cache
    if data is not None and c is not None and c[2] == len(_known) and c[0] == data and c[1] == _env_names:
        return c[3]
    ordered = tuple(sorted(_known | _env_secrets(), key=len, reverse=True))
    if data is not None:
        _cache = (dict(data), frozenset(_env_names), len(_known), ordered)
    return ordered


def redact_text(text: str) -> str:
    if not text:
        return text
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(value: Any, *, _key: str | None = None) -> Any:
    """Return a copy of ``value`` with secrets masked (mappings, sequences, strings)."""
    if _key is not None and is_secret_name(_key) and value not in (None, "", [], {}):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, _key=str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value
