"""SSH signatures (``ssh-keygen -Y``), namespace ``peaktrade``: sign, check, verify against roles.yaml keys."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from peaktrade.errors import CheckFailed

NAMESPACE = "peaktrade"
_FP = re.compile(r"key (SHA256:[A-Za-z0-9+/=]+)")


def _ssh_keygen() -> str:
    exe = shutil.which("ssh-keygen")
    if exe is None:
        raise CheckFailed("ssh-keygen is not installed: approvals cannot be signed or verified")
    return exe


def _run(args: list[str], data: bytes, timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run([_ssh_keygen(), *args], input=data, capture_output=True, timeout=timeout)


def sign(data: bytes, key_path: Path) -> str:
    """The armored signature of ``data`` made with the private key at ``key_path``."""
    if not Path(key_path).is_file():
        raise CheckFailed(f"key file {key_path} not found")
    proc = _run(["-Y", "sign", "-n", NAMESPACE, "-f", str(key_path)], data, timeout=120.0)
    if proc.returncode != 0 or b"BEGIN SSH SIGNATURE" not in proc.stdout:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise CheckFailed(f"ssh-keygen could not sign with {key_path}: {msg[-1] if msg else 'unknown error'}")
    return proc.stdout.decode()


def _with_sig(signature: str, fn):
    with tempfile.TemporaryDirectory(prefix="peaktrade-sig-") as tmp:
        sig = Path(tmp) / "request.sig"
        sig.write_text(signature, encoding="utf-8")
        return fn(Path(tmp), sig)


def check(data: bytes, signature: str) -> str | None:
    """The signing key's fingerprint if ``signature`` is a valid signature over ``data``, else None."""
    def go(_tmp: Path, sig: Path) -> str | None:
        proc = _run(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)], data)
        m = _FP.search((proc.stdout + proc.stderr).decode(errors="replace"))
        return m.group(1) if proc.returncode == 0 and m else None

    return _with_sig(signature, go)


def verify(data: bytes, signature: str, principal: str, allowed_signers: str) -> str | None:
    """The fingerprint if ``principal`` made ``signature`` over ``data`` with one of their listed keys."""
    def go(tmp: Path, sig: Path) -> str | None:
        allowed = tmp / "allowed_signers"
        allowed.write_text(allowed_signers, encoding="utf-8")
        proc = _run(["-Y", "verify", "-f", str(allowed), "-I", principal, "-n", NAMESPACE, "-s", str(sig)], data)
        m = _FP.search((proc.stdout + proc.stderr).decode(errors="replace"))
        return m.group(1) if proc.returncode == 0 and m else None

    return _with_sig(signature, go)
