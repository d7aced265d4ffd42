"""Snapshot files from an object-store URL (adapters/snapshots/remote.py), against real
servers on loopback: an HTTP server (stdlib, in a thread) whose every request is counted,
and an S3 API (moto's server) read through s3fs."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.snapshots import remote
from adapters.snapshots.remote import (
    ProtocolNotInstalled,
    RemoteSnapshotError,
    check,
    default_cache_dir,
    is_url,
    localize,
)
from engine.common.errors import RulebotError
from engine.common.redaction import forget_secrets

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "sample.snapshots.parquet"
NAME = "sample.snapshots.parquet"


@dataclass
class Store:
    """What the HTTP server serves, and what it was asked."""

    objects: dict[str, bytes] = field(default_factory=dict)
    etags: bool = True  # send an ETag (else no validator at all: only Content-Length)
    short_get: bool = False  # GET answers 10 bytes fewer than HEAD announced (a truncated download)
    login: tuple[str, str] = ("reader", "hunter22")  # Basic auth for /private/…
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)

    def gets(self, path: str) -> int:
        return self.requests["GET", path]


def _handler(store: Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            path = self.path.split("?", 1)[0]
            store.requests[self.command, path] += 1
            if path.startswith("/private/"):
                expected = "Basic " + base64.b64encode(":".join(store.login).encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self._empty(401)
                    return
            data = store.objects.get(path)
            if data is None:
                self._empty(404)
                return
            if body and store.short_get:
                data = data[:-10]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            if store.etags:
                self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest()[:20] + '"')
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _empty(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    """An HTTP server on 127.0.0.1 serving a copy of the sample recording as /data/NAME."""
    copy = tmp_path / "www" / NAME
    copy.parent.mkdir()
    shutil.copyfile(SAMPLE, copy)  # the sample is read-only: the server serves a copy
    store = Store(objects={f"/data/{NAME}": copy.read_bytes()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(store))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield store, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _no_leftover_secrets() -> Iterator[None]:
    """A URL's password is registered for redaction process-wide; forget it after each test."""
    forget_secrets()
    yield
    forget_secrets()


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.startswith("."))


# --- what a URL is -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "s3://bucket/key.parquet",
        "gs://b/k.jsonl.gz",
        "https://h/x",
        "http://h:8/x",
        "file:///tmp/x",
        "S3://B/K",
        "s3a://b/k",
    ],
)
def test_urls(text: str) -> None:
    assert is_url(text)


@pytest.mark.parametrize(
    "text",
    ["data/x.parquet", "/abs/x.parquet", r"C:\data\x.parquet", "C:/data/x.parquet", "C://data/x", "x:/y", "", "://x"],
)
def test_paths_are_not_urls(text: str) -> None:
    assert not is_url(text)


def test_a_path_is_returned_as_it_is(tmp_path: Path) -> None:
    assert localize("data/sample/whatever.parquet", tmp_path) == "data/sample/whatever.parquet"
    assert list(tmp_path.iterdir()) == []


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RULEBOT_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == str(tmp_path / "c")
    monkeypatch.delenv("RULEBOT_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == str(tmp_path / ".cache" / "rulebot" / "snapshots")


def test_codes_are_declared() -> None:
    assert RemoteSnapshotError.code in remote.CODES
    assert ProtocolNotInstalled.code in remote.CODES
    assert issubclass(ProtocolNotInstalled, RemoteSnapshotError)
    assert issubclass(RemoteSnapshotError, RulebotError)


# --- HTTP ----------------------------------------------------------------------------


def test_http_object_is_fetched_once_with_its_bytes_and_name(served: tuple[Store, str], tmp_path: Path) -> None:
    store, base = served
    cache = tmp_path / "cache"
    url = f"{base}/data/{NAME}"
    check(url)
    first = localize(url, cache)
    assert Path(first).read_bytes() == SAMPLE.read_bytes()
    assert first.endswith(f"-{NAME}")  # the suffix readers dispatch on is kept
    assert Path(first).parent == cache
    second = localize(url, cache)  # another variant on the same worker
    assert second == first
    assert store.gets(f"/data/{NAME}") == 1
    assert _leftovers(cache) == []


def test_jsonl_gz_keeps_both_suffixes(served: tuple[Store, str], tmp_path: Path) -> None:
    store, base = served
    store.objects["/data/day.snapshots.jsonl.gz"] = b"\x1f\x8b not really gzip"
    path = localize(f"{base}/data/day.snapshots.jsonl.gz", tmp_path)
    assert path.endswith(".snapshots.jsonl.gz")
    assert Path(path).read_bytes() == b"\x1f\x8b not really gzip"


def test_changed_object_is_fetched_again(served: tuple[Store, str], tmp_path: Path) -> None:
    store, base = served
    key = f"/data/{NAME}"
    url = base + key
    original = store.objects[key]
    first = localize(url, tmp_path)
    # same size, other bytes: only the ETag tells
    store.objects[key] = bytes([original[0] ^ 0xFF]) + original[1:]
    second = localize(url, tmp_path)
    assert second != first
    assert Path(second).read_bytes() == store.objects[key]
    assert Path(first).read_bytes() == original  # a worker still reading the old copy is not disturbed
    # another size
    store.objects[key] = original + b"more"
    third = localize(url, tmp_path)
    assert Path(third).read_bytes() == original + b"more"
    assert store.gets(key) == 3
    assert localize(url, tmp_path) == third
    assert store.gets(key) == 3


def test_object_without_validator_is_fetched_every_time(served: tuple[Store, str], tmp_path: Path) -> None:
    """A store that reports only a size cannot tell a changed object of the same size: no stale copy is used."""
    store, base = served
    store.etags = False
    key = f"/data/{NAME}"
    first = localize(base + key, tmp_path)
    store.objects[key] = b"Y" * len(store.objects[key])
    second = localize(base + key, tmp_path)
    assert second == first
    assert Path(second).read_bytes() == store.objects[key]
    assert store.gets(key) == 2
    assert _leftovers(tmp_path) == []


def test_concurrent_localizes_agree(served: tuple[Store, str], tmp_path: Path) -> None:
    _, base = served
    url = f"{base}/data/{NAME}"
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: localize(url, tmp_path), range(4)))
    assert len(set(paths)) == 1
    assert Path(paths[0]).read_bytes() == SAMPLE.read_bytes()
    assert _leftovers(tmp_path) == []


def test_missing_object_names_the_url(served: tuple[Store, str], tmp_path: Path) -> None:
    _, base = served
    url = f"{base}/data/missing.parquet"
    for call in (lambda: check(url), lambda: localize(url, tmp_path / "cache")):
        with pytest.raises(RemoteSnapshotError) as caught:
            call()
        assert caught.value.code == "RB560"
        assert url in str(caught.value)
        assert "no such object" in str(caught.value)
    assert not (tmp_path / "cache").exists()


def test_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on: bound, never listened on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/x.parquet"
        with pytest.raises(RemoteSnapshotError) as caught:
            check(url)
    assert str(caught.value).startswith(f"snapshot URL {url}: cannot be read: ClientConnectorError")


def test_truncated_download_leaves_nothing(served: tuple[Store, str], tmp_path: Path) -> None:
    store, base = served
    store.short_get = True
    with pytest.raises(RemoteSnapshotError, match="download incomplete"):
        localize(f"{base}/data/{NAME}", tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # neither a temporary file nor a half copy


def test_credentials_do_not_leak(served: tuple[Store, str], tmp_path: Path) -> None:
    _, base = served
    port = base.rsplit(":", 1)[1]
    urls = [
        f"http://user:secret@127.0.0.1:{port}/missing.parquet",
        f"http://user:secret@127.0.0.1:{port}/private/{NAME}",  # refused: 401
        f"http://127.0.0.1:{port}/missing.parquet?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=f00dfeed42&token=tok3n",
    ]
    for url in urls:
        for call in (check, lambda u: localize(u, tmp_path)):
            with pytest.raises(RemoteSnapshotError) as caught:
                call(url)
            message = str(caught.value)
            assert f"127.0.0.1:{port}/" in message
            for secret in ("secret", "user:", "AKIAEXAMPLE", "f00dfeed42", "tok3n"):
                assert secret not in message, message
            assert caught.value.__cause__ is None  # no chained error carrying the raw URL


def test_percent_encoded_password_does_not_leak(served: tuple[Store, str]) -> None:
    _, base = served
    port = base.rsplit(":", 1)[1]
    with pytest.raises(RemoteSnapshotError) as caught:
        check(f"http://reader:p%40ssw0rd@127.0.0.1:{port}/private/{NAME}")
    assert "ssw0rd" not in str(caught.value)
    assert "401" in str(caught.value)


def test_cache_that_cannot_be_written(served: tuple[Store, str], tmp_path: Path) -> None:
    _, base = served
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(RemoteSnapshotError, match=r"snapshot cache .* cannot be written"):
        localize(f"{base}/data/{NAME}", tmp_path / "file" / "cache")


def test_http_basic_auth_from_the_url(served: tuple[Store, str], tmp_path: Path) -> None:
    store, base = served
    store.objects[f"/private/{NAME}"] = store.objects[f"/data/{NAME}"]
    user, password = store.login
    url = base.replace("http://", f"http://{user}:{password}@") + f"/private/{NAME}"
    path = localize(url, tmp_path)
    assert Path(path).read_bytes() == SAMPLE.read_bytes()
    assert password not in path and user not in path


# --- other protocols -------------------------------------------------------------------


def test_unknown_protocol_says_what_to_install(tmp_path: Path) -> None:
    for call in (lambda: check("nosuch://x"), lambda: localize("nosuch://x", tmp_path)):
        with pytest.raises(ProtocolNotInstalled) as caught:
            call()
        assert caught.value.code == "RB561"
        assert "'nosuch'" in str(caught.value)
        assert "install" in str(caught.value)


def test_known_protocol_without_its_package(tmp_path: Path) -> None:
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed here")
    with pytest.raises(ProtocolNotInstalled, match="pip install gcsfs"):
        check("gs://bucket/sample.snapshots.parquet")


def test_file_url_is_the_file_itself(tmp_path: Path) -> None:
    copy = tmp_path / NAME
    shutil.copyfile(SAMPLE, copy)
    url = copy.as_uri()
    check(url)
    assert localize(url, tmp_path / "cache") == str(copy)
    assert not (tmp_path / "cache").exists()
    with pytest.raises(RemoteSnapshotError, match="no such object"):
        check((tmp_path / "gone.parquet").as_uri())


def test_check_of_a_plain_path(tmp_path: Path) -> None:
    check(str(SAMPLE))
    with pytest.raises(RemoteSnapshotError, match="does not exist"):
        check(str(tmp_path / "gone.parquet"))


# --- S3 (moto's S3 API on loopback, read through s3fs) ---------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_s3_object(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user sets: the standard AWS variables, the endpoint of an S3-compatible store included."""
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # an instance made under other variables would be reused
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    try:
        client.create_bucket(Bucket="bucket")
        client.upload_file(str(SAMPLE), "bucket", NAME)
        url = f"s3://bucket/{NAME}"
        cache = tmp_path / "cache"
        check(url)
        first = localize(url, cache)
        assert Path(first).read_bytes() == SAMPLE.read_bytes()
        assert first.endswith(f"-{NAME}")
        assert localize(url, cache) == first
        client.put_object(Bucket="bucket", Key=NAME, Body=b"changed")  # a new ETag
        second = localize(url, cache)
        assert second != first
        assert Path(second).read_bytes() == b"changed"
        with pytest.raises(RemoteSnapshotError, match="no such object"):
            check("s3://bucket/missing.parquet")
        assert _leftovers(cache) == []
    finally:
        client.close()
        s3fs.S3FileSystem.clear_instance_cache()


def test_s3_endpoint_as_a_storage_option(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, the endpoint and keys given as fsspec storage options (what an
    ``FSSPEC_S3_ENDPOINT_URL`` variable or fsspec's config file supplies)."""
    import boto3
    import s3fs

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    options = {
        "endpoint_url": s3_endpoint,
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"region_name": "us-east-1"},
    }
    s3fs.S3FileSystem.clear_instance_cache()
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    try:
        client.create_bucket(Bucket="options")
        client.upload_file(str(SAMPLE), "options", NAME)
        path = localize(f"s3://options/{NAME}", tmp_path / "cache", storage_options=options)
        assert Path(path).read_bytes() == SAMPLE.read_bytes()
    finally:
        client.close()
        s3fs.S3FileSystem.clear_instance_cache()


def test_s3_endpoint_from_fsspec_variables(s3_endpoint: str, tmp_path: Path) -> None:
    """A worker configured only by fsspec's variables (``FSSPEC_S3_<OPTION>``, read when fsspec
    is imported: so in a process of its own) reads the object."""
    import boto3

    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
    )
    try:
        client.create_bucket(Bucket="variables")
        client.upload_file(str(SAMPLE), "variables", NAME)
    finally:
        client.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_"))}
    env.update(
        FSSPEC_S3_ENDPOINT_URL=s3_endpoint,
        FSSPEC_S3_KEY="k",
        FSSPEC_S3_SECRET="s",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
    )
    code = "import sys; from adapters.snapshots.remote import localize; print(localize(sys.argv[1], sys.argv[2]))"
    done = subprocess.run(
        [sys.executable, "-c", code, f"s3://variables/{NAME}", str(tmp_path / "cache")],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).read_bytes() == SAMPLE.read_bytes()


def test_safe_url() -> None:
    shown = remote.safe_url("https://u:p4ss@host.example:8443/a/b.parquet?sig=abc#frag")
    assert shown == "https://host.example:8443/a/b.parquet?…"
    assert remote.safe_url("s3://bucket/key.parquet") == "s3://bucket/key.parquet"
