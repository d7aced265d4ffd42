"""`rulebot sweep` over snapshots named by a URL (adapters/snapshots/remote.py), as real CLI
processes against an HTTP server on loopback (tests/snapshots/test_remote.py's, every request
counted): the same ranking as over the local file, fetched once into ``$RULEBOT_CACHE`` and
shared by every worker process; a missing object, an unknown protocol and a URL's
credentials handled before anything runs.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.snapshots.test_remote import NAME, SAMPLE, Store, _handler

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
TO = "2025-05-21T08:00:00Z"
TARGET = "exits.tiers.profit_target.targets.0.pnl_pct"
SPEC = f"""kind: sweep
name: target
metric: {{name: net_pnl_pct, goal: max}}
search: {{method: grid}}
parameters:
  - {{path: {TARGET}, values: [1.75, 2.0, 2.25]}}
"""
TASKS = 3  # variants of SPEC, one window each
OBJECT = f"/{NAME}"
PRIVATE = f"/private/{NAME}"  # the server asks for Basic auth here


@dataclass
class Served:
    store: Store
    base: str  # http://127.0.0.1:PORT
    folder: Path  # the module's scratch folder

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The sample recording (a copy in tmp) served as /NAME and, behind Basic auth, /private/NAME."""
    folder = tmp_path_factory.mktemp("urls")
    copy = folder / "www" / NAME
    copy.parent.mkdir()
    shutil.copyfile(SAMPLE, copy)
    data = copy.read_bytes()
    store = Store(objects={OBJECT: data, PRIVATE: data})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(store))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Served(store, f"http://127.0.0.1:{server.server_address[1]}", folder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def spec_file(folder: Path) -> Path:
    path = folder / "sweep.yaml"
    if not path.exists():
        path.write_text(SPEC, encoding="utf-8")
    return path


def sweep(
    snapshots: str, out: Path, cache: Path, *extra: str, cwd: Path | None = None, spec: Path | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RULEBOT_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", "sweep", str(spec or spec_file(out.parent)), snapshots,
         "--rules", str(RULES), "--out", str(out), "--to", TO, *extra],
        cwd=cwd or ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def ranking(out: Path) -> list[tuple[str, str, str, str, str]]:
    with open(out / "ranking.csv", encoding="utf-8") as f:
        return [(r["rank"], r["variant"], r["status"], r["fingerprint"], r["net_pnl_pct"]) for r in csv.DictReader(f)]


def nothing_ran(out: Path) -> bool:
    results = out / "results.jsonl"
    return not results.exists() or results.read_text(encoding="utf-8") == ""


@dataclass
class Swept:
    url: str
    local: subprocess.CompletedProcess
    remote: subprocess.CompletedProcess
    local_out: Path
    remote_out: Path
    cache: Path


@pytest.fixture(scope="module")
def swept(served: Served) -> Swept:
    """The sweep over the local file (a pool of 2) and over its URL (one worker at a time: each
    task still in a fresh process of its own, so only the cache can spare a download)."""
    folder, cache = served.folder, served.folder / "cache"
    local_out, remote_out = folder / "local", folder / "remote"
    url = served.base + OBJECT
    local = sweep(str(SAMPLE), local_out, cache, "--workers", "2")
    remote = sweep(url, remote_out, cache, "--workers", "1")
    return Swept(url, local, remote, local_out, remote_out, cache)


@pytest.mark.slow
def test_a_url_sweep_ranks_as_the_local_file_and_fetches_it_once(served, swept):
    assert swept.local.returncode == 0, swept.local.stderr
    assert swept.remote.returncode == 0, swept.remote.stderr
    assert f"{TASKS} to run" in swept.remote.stderr
    rows = ranking(swept.remote_out)
    assert len(rows) == TASKS and all(status == "ok" for _, _, status, _, _ in rows)
    assert rows == ranking(swept.local_out)
    # the cache holds the object's one copy, under its own name, and nothing half-written
    [copy] = list(swept.cache.iterdir())
    assert copy.name.endswith(f"-{NAME}") and copy.read_bytes() == SAMPLE.read_bytes()
    # every task process asked the store about the object (the sweep's check, then one each:
    # an object changed in the store would be fetched again) but only the first downloaded it
    assert served.store.gets(OBJECT) == 1
    assert served.store.requests["HEAD", OBJECT] >= TASKS


@pytest.mark.slow
def test_a_url_sweep_resumes_from_another_working_folder(served, swept, tmp_path):
    assert swept.remote.returncode == 0, swept.remote.stderr
    gets = served.store.gets(OBJECT)
    again = sweep(swept.url, swept.remote_out, swept.cache, "--workers", "1", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{TASKS} task(s) already in" in again.stderr and "0 to run" in again.stderr
    assert ranking(swept.remote_out) == ranking(swept.local_out)
    assert served.store.gets(OBJECT) == gets


def test_a_missing_object_is_a_usage_error_before_anything_runs(served, tmp_path):
    url = f"{served.base}/missing.parquet"
    out = tmp_path / "out"
    done = sweep(url, out, tmp_path / "cache")
    assert done.returncode == 2, done.stdout + done.stderr
    assert url in done.stderr
    assert "no such object" in done.stderr or "RB560" in done.stderr, done.stderr
    assert served.store.requests["HEAD", "/missing.parquet"] >= 1  # the store was asked: not refused as a path
    assert nothing_ran(out) and "to run" not in done.stderr
    assert not (tmp_path / "cache").exists()


def test_an_unknown_protocol_says_what_to_install(tmp_path):
    out = tmp_path / "out"
    done = sweep("nosuch://bucket/x.parquet", out, tmp_path / "cache")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "nosuch://bucket/x.parquet" in done.stderr
    assert "no fsspec implementation is known for protocol 'nosuch'" in done.stderr
    assert "install the package that provides it" in done.stderr
    assert nothing_ran(out)


def test_a_urls_credentials_are_not_printed(served, tmp_path):
    url = f"http://user:secret@127.0.0.1:{served.port}/missing.parquet"
    done = sweep(url, tmp_path / "out", tmp_path / "cache")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"http://127.0.0.1:{served.port}/missing.parquet" in done.stderr  # named, without them
    assert "no such object" in done.stderr
    for secret in ("secret", "user:"):
        assert secret not in done.stdout and secret not in done.stderr


@pytest.mark.slow
def test_a_urls_password_reaches_no_output_file(served, tmp_path):
    user, password = served.store.login
    url = f"http://{user}:{password}@127.0.0.1:{served.port}{PRIVATE}"
    spec = tmp_path / "one.yaml"
    spec.write_text(SPEC.replace("[1.75, 2.0, 2.25]", "[2.0]").replace("name: target", "name: one"), "utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    done = sweep(url, out, cache, "--workers", "1", spec=spec)
    assert done.returncode == 0, done.stderr  # the worker authenticated with the URL's user and password
    assert served.store.gets(PRIVATE) == 1
    assert password not in done.stdout + done.stderr
    for path in [*out.rglob("*"), *cache.rglob("*")]:
        assert password not in path.name
        if path.is_file():
            assert password.encode() not in path.read_bytes(), f"{path.relative_to(tmp_path)} holds the password"
