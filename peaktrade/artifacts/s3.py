"""Copies of closed run logs (Parquet, meta.json) and play journals in S3-compatible object storage.

``[artifacts] url = "s3://bucket/prefix"`` in config/config.toml; ``endpoint_url`` and ``region`` there,
the keys from the environment variables ``access_key_env``/``secret_key_env`` name (else boto3's usual
chain: environment, profile, instance role). Objects are ``<prefix>/runs/<run id>/<file>`` and
``<prefix>/plays/<play id>/<file>``, readable as they are by pandas, polars and duckdb.

Every copy's SHA-256 is computed here, sent with the upload so the server verifies it
(``ChecksumSHA256``), and recorded in the desk state (``record_artifact``); ``fetch`` checks it again
before anything reads a copy. Runs stay crash-safe locally: only a *closed* run is copied.
boto3 is imported inside functions (extra ``cluster``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peaktrade.clock import SYSTEM_CLOCK, Clock, utc_iso
from peaktrade.desk import open_desk
from peaktrade.desk.backend import host_id
from peaktrade.desk.store import RUN_FINAL, ArtifactRow, DeskStore, RunRecord
from peaktrade.errors import PeakTradeError, UsageError
from peaktrade.redact import register_secret_env
from peaktrade.root import Root
from peaktrade.runtime import runlog


class ArtifactError(PeakTradeError):
    """Object storage cannot be used (exit 1): one line naming the bucket and what it said."""


@dataclass(frozen=True)
class Target:
    bucket: str
    prefix: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_env: str | None = None
    secret_key_env: str | None = None

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def key(self, kind: str, owner: str, name: str) -> str:
        return "/".join(p for p in (self.prefix, kind, owner, name) if p)


def target(conf: dict[str, Any] | None) -> Target | None:
    """The ``[artifacts]`` table as a target (None when no url is configured)."""
    if not conf or not conf.get("url"):
        return None
    url = str(conf["url"])
    if not url.startswith("s3://") or len(url) <= 5:
        raise UsageError(f"[artifacts] url must be s3://bucket/prefix (got {url!r})")
    bucket, _, prefix = url[5:].partition("/")
    for name in ("access_key_env", "secret_key_env"):
        if conf.get(name):
            register_secret_env(str(conf[name]))
    return Target(bucket, prefix.strip("/"), conf.get("endpoint_url"), conf.get("region"),
                  conf.get("access_key_env"), conf.get("secret_key_env"))


def configured(root: Root) -> Target | None:
    import tomllib

    try:
        data = tomllib.loads(root.config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return target(data.get("artifacts"))


def client(t: Target) -> Any:
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = {"endpoint_url": t.endpoint_url, "region_name": t.region or "us-east-1",
                              "config": Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                                               read_timeout=30)}
    if t.access_key_env and t.secret_key_env:
        kwargs["aws_access_key_id"] = os.environ.get(t.access_key_env)
        kwargs["aws_secret_access_key"] = os.environ.get(t.secret_key_env)
    return boto3.client("s3", **kwargs)


def _sha256(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def _fail(t: Target, what: str, exc: Exception) -> ArtifactError:
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
    return ArtifactError(f"object storage s3://{t.bucket}: {what} failed ({code or type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})")


def upload_dir(t: Target, store: DeskStore, folder: Path, *, kind: str, owner: str, host: str,
               clock: Clock = SYSTEM_CLOCK, s3: Any = None) -> list[ArtifactRow]:
    """Copy every file of ``folder`` (a closed run's or play's), each verified and recorded."""
    s3 = s3 or client(t)
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith((".tmp", ".lock"))):
        name = path.relative_to(folder).as_posix()
        digest, size = _sha256(path)
        key = t.key("runs" if kind == "run_log" else "plays", owner, name)
        try:
            with open(path, "rb") as fh:
                s3.put_object(Bucket=t.bucket, Key=key, Body=fh, ChecksumSHA256=base64.b64encode(
                    bytes.fromhex(digest)).decode(), Metadata={"sha256": digest, "host": host})
        except Exception as exc:  # noqa: BLE001 - botocore's errors: one located line
            raise _fail(t, f"uploading {key}", exc) from None
        row = ArtifactRow(owner, kind, name, t.url(key), digest, size, host, utc_iso(clock.now()))
        store.record_artifact(row)
        rows.append(row)
    return rows


def upload_run(root: Root, t: Target, store: DeskStore, run_id: str, *, host: str, s3: Any = None) -> list[ArtifactRow]:
    rec = store.get_run(run_id)
    if rec is None or rec.status not in RUN_FINAL:
        raise UsageError(f"run {run_id} is not closed ({rec.status if rec else 'unknown'}): only closed run logs "
                         "are copied")
    return upload_dir(t, store, runlog.run_dir(root, run_id), kind="run_log", owner=run_id, host=host, s3=s3)


def upload_play(root: Root, t: Target, store: DeskStore, play_id: str, *, host: str,
                s3: Any = None) -> list[ArtifactRow]:
    return upload_dir(t, store, root.plays_dir / play_id, kind="journal", owner=play_id, host=host, s3=s3)


def fetch(root: Root, t: Target, store: DeskStore, owner: str, *, s3: Any = None) -> Path:
    """The copies of a run's or play's files, downloaded to ``var/artifacts/<owner>/`` and checked against
    the hashes in the desk state (a mismatch is an error, never a silent read)."""
    rows = store.list_artifacts(owner)
    if not rows:
        raise UsageError(f"{owner}: not on this host and no copy in object storage (the desk state records none)")
    s3 = s3 or client(t)
    dest = cache_dir(root) / owner
    for row in rows:
        target_path = dest / row.name
        if target_path.is_file() and _sha256(target_path)[0] == row.sha256:
            continue
        bucket, _, key = row.url[5:].partition("/")
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # noqa: BLE001
            raise _fail(t, f"reading {key}", exc) from None
        if hashlib.sha256(body).hexdigest() != row.sha256:
            raise ArtifactError(f"{row.url}: its SHA-256 differs from the one recorded when it was copied "
                                f"({row.sha256[:12]}…): not used")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = target_path.with_name(target_path.name + ".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, target_path)
    return dest


def cache_dir(root: Root) -> Path:
    """Where verified copies are kept: ``var/artifacts/<run or play id>/``."""
    return root.var_dir / "artifacts"


def run_dir_anywhere(root: Root, store: DeskStore | None, run_id: str, local: Path | None = None) -> Path:
    """Where to read run ``run_id``: this host's folder, else (a run of another host of the desk) its copy from
    object storage, verified against the hashes in the desk state.

    ``local`` is this host's folder for the run (default: ``[run_logs]``'s). It is read when no ``[artifacts]``
    url is configured (a one-host desk: as before), when its events are here (the run ran here), or when the
    desk state does not place the run on another host; the origin host of a run pinned elsewhere keeps only
    the meta.json it queued, which is never taken for the run log. A run of another host that is still active,
    has no copy, or whose copy differs from its recorded hash is an error (fail closed), never a local read.
    """
    local = local if local is not None else runlog.run_dir(root, run_id)
    t = configured(root)
    if t is None or ran_here(local):
        return local
    try:
        store = store if store is not None else open_desk(root)
        rec = store.get_run(run_id)
    except PeakTradeError:
        if (local / runlog.META_FILE).is_file():
            return local  # the desk state is unreachable: this host's folder, as without artifacts
        raise
    if not elsewhere(rec, host_id(root), local):
        return local
    assert rec is not None
    if rec.status not in RUN_FINAL:
        raise UsageError(f"run {run_id} is {rec.status} on host {rec.host}: its run log is read there until it "
                         "closes (then from its copy in object storage)")
    if not store.list_artifacts(run_id):
        raise UsageError(f"run {run_id} ({rec.status} on host {rec.host}) has no copy in object storage yet "
                         "(the desk state records none; the agent of that host copies closed runs)")
    return fetch(root, t, store, run_id)


def ran_here(local: Path) -> bool:
    """The run's events are in this host's folder (it ran here)."""
    return (local / runlog.META_FILE).is_file() and any(
        (local / name).exists() for name in (runlog.JSONL_FILE, runlog.PARQUET_FILE))


def elsewhere(rec: RunRecord | None, here: str, local: Path) -> bool:
    """A run the desk state places on another host, whose events are not here: what this host may hold is the
    meta.json it queued the run with (``runs start-* --host H``), not the run log."""
    return rec is not None and bool(rec.host) and rec.host != here and not ran_here(local)


def plays_dir_anywhere(root: Root, store: DeskStore | None, play_id: str) -> Path:
    """The folder holding ``<play_id>/`` (journal, head, signature): this host's ``var/plays/``, else (a play of
    another host) ``var/artifacts/`` after its copy was fetched and verified against the desk state's hashes.
    A play on neither, or a copy that cannot be had or differs, is an error (fail closed)."""
    if (root.plays_dir / play_id).is_dir():
        return root.plays_dir
    t = configured(root)
    if t is None:
        raise UsageError(f"play {play_id} is not on this host and no [artifacts] url is configured to read its copy")
    fetch(root, t, store if store is not None else open_desk(root), play_id)
    return cache_dir(root)
