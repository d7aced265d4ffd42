"""A fake CoinGlass v4 on loopback: a real HTTP server (127.0.0.1, ephemeral port) that
checks the CG-API-KEY header, answers the envelope ``{"code": "0", "msg": "success", "data": …}``
with what a test put in ``data`` (by path; a callable gets the query), records every
request, and injects faults on demand: an HTTP status, an envelope code, raw bytes
(malformed or truncated JSON), rate-limit headers, or an answer held until the client's
timeout fires (released when the server stops, never a fixed sleep).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HOLD_LIMIT_S = 30.0  # a held answer is released at the latest after this (a hang guard only)


@dataclass(frozen=True)
class Fault:
    """One injected answer: ``status`` with ``body`` (bytes as sent, or a JSON value), or
    ``hold`` (answer nothing until released)."""

    status: int = 200
    body: bytes | Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    hold: bool = False
    path: str | None = None  # only for this path; None: the next request whatever its path


@dataclass(frozen=True)
class Seen:
    path: str
    params: Mapping[str, str]
    key_ok: bool


def envelope(data: Any, code: str = "0", msg: str = "success") -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


class FakeCoinGlass:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is its base URL."""

    def __init__(self, api_key: str = "cg-fake-key-7f3a9c1e5b"):
        self.api_key = api_key
        self.data: dict[str, Any | Callable[[Mapping[str, str]], Any]] = {}
        self.faults: deque[Fault] = deque()
        self.requests: list[Seen] = []
        self.headers: dict[str, str] = {}  # sent with every answer (e.g. API-KEY-USE-LIMIT)
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCoinGlass:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def calls(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path is None or fault.path == path:
                    self.faults.remove(fault)
                    return fault
        return None

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        key_ok = handler.headers.get("CG-API-KEY") == self.api_key
        with self._lock:
            self.requests.append(Seen(split.path, params, key_ok))
        if not key_ok:
            return self._send(handler, 401, envelope(None, "401", "API key missing or invalid"))
        fault = self._next_fault(split.path)
        if fault is not None:
            if fault.hold:
                self._release.wait(HOLD_LIMIT_S)
                return None
            return self._send(handler, fault.status, fault.body, fault.headers)
        if split.path not in self.data:
            return self._send(handler, 404, envelope(None, "404", "not found"))
        data = self.data[split.path]
        return self._send(handler, 200, envelope(data(params) if callable(data) else data))

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: Mapping[str, str] = ()) -> None:  # type: ignore[assignment]
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            handler.send_response(status)
            sent = {
                "Content-Type": "application/json",
                "Content-Length": str(len(raw)),
                **self.headers,
                **dict(headers),
            }
            for name, value in sent.items():  # an injected Content-Length replaces the true one
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            return
