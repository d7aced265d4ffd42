"""Snapshot files named by an object-store URL, made into local files a worker can read.

``rulebot sweep`` ships *paths* to its workers, never data. A snapshot argument may also be a
URL (``s3://bucket/key.snapshots.parquet``, ``gs://…``, ``https://…``, ``file://…``, or any
other protocol whose fsspec package is installed): each worker then fetches the object
itself, once, into a local cache (:func:`localize`), and reads the copy like any snapshot
file. All I/O goes through fsspec (https://filesystem-spec.readthedocs.io): no HTTP or S3
code of rulebot's own.

* **Where fetched files go**: :func:`default_cache_dir` (``$RULEBOT_CACHE``, else
  ``~/.cache/rulebot/snapshots``). A copy is named by the URL and the object's identity as
  the store reports it (ETag, checksum, version, modification time, size: whatever
  ``info()`` gives), so every variant on a worker shares one download, and an object changed
  in the store is fetched again. The file keeps the object's name, so its suffix
  (``.parquet``, ``.jsonl``, ``.jsonl.gz``) still says how to read it. A download goes to a
  temporary file in the cache folder and is moved into place with ``os.replace``: a reader
  never sees half a file, and two processes fetching the same object at once are harmless.
  The cache may be emptied whenever no sweep runs.
* **Credentials and endpoints** are fsspec's: S3 reads the standard AWS variables
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``,
  ``AWS_DEFAULT_REGION``, and ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` for an
  S3-compatible store such as MinIO), or fsspec's own configuration: variables
  ``FSSPEC_<PROTOCOL>_<OPTION>`` (``FSSPEC_S3_ENDPOINT_URL=http://minio:9000``) or a JSON/INI
  file in ``$FSSPEC_CONFIG_DIR`` (default ``~/.config/fsspec``), read when fsspec is imported.
  Every worker needs them in its own environment. Google Cloud Storage and Azure read their
  usual credentials (gcsfs, adlfs).
* **Errors** (:class:`RemoteSnapshotError`, :class:`ProtocolNotInstalled`) name the URL
  with its user name, password, query and fragment removed, and their reasons pass through
  engine.common.redaction, so a presigned URL's signature or a password never reaches a
  message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from engine.common.errors import RulebotError
from engine.common.redaction import REDACTED, SENSITIVE_NAME, redact, register_secret
from engine.ports import SNAPSHOT_URL_CODES

logger = logging.getLogger(__name__)

CODES = SNAPSHOT_URL_CODES  # declared with the ports (engine/ports.py): the engine documents every code

#: ``scheme://``: a letter, then letters, digits, ``+ - .``; two characters at least, so a
#: Windows drive (``C:/data``, ``C://data``) is a path, not a URL.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
#: What to install for a protocol whose fsspec package is missing (fsspec's own hint otherwise).
_INSTALL = {
    "s3": "pip install 'rulebot[s3]' (s3fs)",
    "s3a": "pip install 'rulebot[s3]' (s3fs)",
    "gs": "pip install gcsfs",
    "gcs": "pip install gcsfs",
    "az": "pip install adlfs",
    "abfs": "pip install adlfs",
    "abfss": "pip install adlfs",
    "adl": "pip install adlfs",
    "http": "pip install aiohttp",
    "https": "pip install aiohttp",
}
#: ``info()`` fields that tell one version of an object from another, by store: HTTP
#: (ETag, Content-MD5, Digest, Last-Modified), S3 (ETag, LastModified, VersionId), GCS
#: (etag, md5Hash, crc32c, generation, updated), Azure (etag, last_modified), local (mtime).
_VALIDATORS = frozenset(
    {
        "etag",
        "e_tag",
        "content-md5",
        "digest",
        "last-modified",
        "lastmodified",
        "last_modified",
        "versionid",
        "version_id",
        "md5hash",
        "crc32c",
        "checksum",
        "generation",
        "updated",
        "mtime",
    }
)
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MIN_PIECE = 3  # shortest user name, password or query value taken out of an error's text
_KEY_CHARS = 16  # hex characters of the cache key (fewer than 32: redaction takes 32+ hex for a key)


class RemoteSnapshotError(RulebotError):
    """A snapshot URL cannot be read: the object does not exist, the store cannot be reached
    or refuses access, or the download failed. The message names the URL (without
    credentials) and why."""

    code = "RB560"


class ProtocolNotInstalled(RemoteSnapshotError):
    """A snapshot URL's protocol has no fsspec implementation installed; the message says
    which package (or rulebot extra) to install."""

    code = "RB561"


def is_url(text: str) -> bool:
    """Whether ``text`` is a URL (``scheme://…``) rather than a path."""
    return bool(_URL.match(text))


def default_cache_dir() -> str:
    """Where fetched snapshot files are kept: ``$RULEBOT_CACHE``, else ``~/.cache/rulebot/snapshots``."""
    configured = os.environ.get("RULEBOT_CACHE")
    if configured:
        return configured
    return str(Path.home() / ".cache" / "rulebot" / "snapshots")


def safe_url(url: str) -> str:
    """``url`` fit to print: no user name or password, query or fragment (``?…`` marks a dropped query)."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
        dropped = parts.query or parts.fragment
    except ValueError:  # not even parseable: show the scheme only
        return url.split("://", 1)[0] + "://…"
    return redact(shown + ("?…" if dropped else ""))


def check(url: str, storage_options: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ProtocolNotInstalled` or :class:`RemoteSnapshotError` unless ``url`` names
    an object this process can read. A plain path is checked to be a file. Called before a
    sweep starts, so a typo fails at once rather than on every worker."""
    if not is_url(url):
        if not os.path.isfile(url):
            raise RemoteSnapshotError(f"snapshot file {url} does not exist or is not a file")
        return
    fs, path = _filesystem(url, storage_options)
    _info(fs, path, url)


def localize(
    url: str, cache_dir: str | os.PathLike[str] | None = None, storage_options: Mapping[str, Any] | None = None
) -> str:
    """A local path holding the bytes of the object ``url`` names, fetched into ``cache_dir``
    (default :func:`default_cache_dir`) unless the cache already holds this version of it.
    A plain path, and a ``file://`` URL, is returned as the path it names, uncopied."""
    if not is_url(url):
        return url
    fs, path = _filesystem(url, storage_options)
    if _is_local(fs):  # file://: the file itself, no copy
        _info(fs, path, url)
        return str(path)
    info = _info(fs, path, url)
    identity = _identity(info)
    folder = Path(cache_dir if cache_dir is not None else default_cache_dir())
    key = hashlib.sha256(json.dumps([url, identity]).encode("utf-8")).hexdigest()[:_KEY_CHARS]
    target = folder / f"{key}-{_file_name(url)}"
    size = info.get("size")
    validated = any(name != "size" for name, _ in identity)
    if validated and target.is_file() and (size is None or target.stat().st_size == size):
        return str(target)
    # An object whose store reports no ETag, checksum or time cannot be known unchanged:
    # it is fetched on every call (each copy still replaces the last atomically).
    _fetch(fs, path, url, folder, target, size)
    return str(target)


def _filesystem(url: str, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the object's path on it."""
    import fsspec
    from fsspec.core import url_to_fs

    _register_secrets(url)
    scheme, rest = url.split("://", 1)
    protocol = scheme.lower()  # schemes are case-insensitive; fsspec's registry is lower-case
    url = f"{protocol}://{rest}"
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError:
        raise ProtocolNotInstalled(
            f"snapshot URL {safe_url(url)}: no fsspec implementation is known for protocol {protocol!r}; "
            "install the package that provides it (fsspec's list: "
            "https://filesystem-spec.readthedocs.io/en/latest/api.html#other-known-implementations)"
        ) from None
    except ImportError as error:
        hint = _INSTALL.get(protocol) or str(error) or f"install fsspec's package for {protocol}://"
        raise ProtocolNotInstalled(
            f"snapshot URL {safe_url(url)}: protocol {protocol!r} needs a package that is not installed: {hint}"
        ) from None
    try:
        fs, path = url_to_fs(url, **dict(storage_options or {}))
    except Exception as error:  # a bad option or URL: fsspec raises what its backend does
        raise RemoteSnapshotError(f"snapshot URL {safe_url(url)} cannot be opened: {_why(error, url)}") from None
    return fs, path


def _is_local(fs: Any) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _info(fs: Any, path: str, url: str) -> dict[str, Any]:
    """The object's ``info()``, fresh from the store; :class:`RemoteSnapshotError` unless a file."""
    try:
        fs.invalidate_cache(path)  # a listing cached by this (shared) filesystem instance may be stale
        info = dict(fs.info(path))
    except Exception as error:  # the store's own errors: missing, refused, unreachable, timed out, …
        raise _failure(error, url, "cannot be read") from None
    if info.get("type") == "directory":
        raise RemoteSnapshotError(f"snapshot URL {safe_url(url)} names a folder, not a file")
    return info


def _identity(info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The fields of ``info`` that tell this version of the object from another, sorted."""
    fields = {str(name).lower(): value for name, value in info.items()}
    return sorted(
        (name, str(value))
        for name, value in fields.items()
        if (name in _VALIDATORS or name == "size") and value not in (None, "")
    )


def _file_name(url: str) -> str:
    """The object's own name (its last path segment: suffixes kept), safe as a file name."""
    name = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    name = _NAME_UNSAFE.sub("_", name).lstrip(".")[-100:]
    return name or "snapshot"


def _fetch(fs: Any, path: str, url: str, folder: Path, target: Path, size: int | None) -> None:
    """Download the object into a temporary file in ``folder``, then move it to ``target``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".fetching-", suffix=".part")
    except OSError as error:
        raise RemoteSnapshotError(f"snapshot cache {folder} cannot be written: {error}") from None
    os.close(descriptor)
    try:
        logger.info("fetching %s into %s", safe_url(url), target)
        try:
            fs.get_file(path, temporary)
        except Exception as error:
            raise _failure(error, url, "download failed") from None
        got = os.path.getsize(temporary)
        if size is not None and got != size:
            raise RemoteSnapshotError(
                f"snapshot URL {safe_url(url)}: download incomplete ({got} of {size} bytes); "
                "the object may have changed while it was fetched"
            )
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _failure(error: Exception, url: str, doing: str) -> RemoteSnapshotError:
    """The error to raise for ``error``, which the store raised for ``url``: "no such object"
    when that is what it means, else what went wrong, credentials taken out."""
    if isinstance(error, FileNotFoundError):
        # fsspec's HTTP filesystem says "not found" for any failed request (a 401, a refused
        # connection); its cause tells which. s3fs, gcsfs, … mean it (their cause: the store's 404).
        cause = error.__cause__
        status = getattr(cause, "status", None)
        if cause is None or status == 404 or (status is None and not isinstance(cause, OSError)):
            return RemoteSnapshotError(f"snapshot URL {safe_url(url)}: no such object")
        error = cause if isinstance(cause, Exception) else error
    return RemoteSnapshotError(f"snapshot URL {safe_url(url)}: {doing}: {_why(error, url)}")


def _secrets(url: str) -> list[str]:
    """What in ``url`` may be a credential: the user name and password, every query value
    (a presigned URL's signature, a token) and the fragment."""
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=False)
    except ValueError:
        return []
    userinfo = parts.netloc.rpartition("@")[0]
    whole = [userinfo, parts.query, parts.fragment]
    pieces = [*userinfo.split(":", 1), *(value for _, value in pairs)]
    # a piece of one or two characters would blank out ordinary words; the whole strings go anyway
    found = [s for s in whole if s] + [s for s in pieces if len(s) >= _MIN_PIECE]
    found += [unquote(s) for s in found]  # an error may quote them decoded (``p%40ss`` as ``p@ss``)
    return sorted(set(found), key=len, reverse=True)


def _register_secrets(url: str) -> None:
    """Have redaction hide this URL's password and secret-named query values everywhere (logs included)."""
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query)
    except ValueError:
        return
    if parts.password:
        register_secret(parts.password)
    for name, value in pairs:
        if SENSITIVE_NAME.search(name):
            register_secret(value)


def _why(error: BaseException, url: str) -> str:
    """``error`` said briefly, with every credential the URL holds taken out of it."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = text.replace(url, safe_url(url))
    for secret in _secrets(url):
        text = text.replace(secret, REDACTED)
    return redact(" ".join(text.split())[:500])
