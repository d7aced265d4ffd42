"""A fake BloFin on loopback: a real HTTP server that checks every private request's ACCESS-SIGN
with the published algorithm (written out here, independent of the client's signer), keeps
orders, TP/SL orders, positions, balance and fills, and injects faults on demand.

Faults (``fault(path, kind, times=1)``): ``429``, ``403``, ``500``, ``hang`` (the answer is held until
the client gives up: the handler waits on an event the fixture sets at teardown, never a
fixed sleep), ``hang_after_accept`` (the order is taken, then the answer is held),
``malformed``, ``truncated``, ``nonce`` (152407), ``clock`` (152405), or ``code:<n>`` (an
HTTP-200 error envelope with that code).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEY, SECRET, PASSPHRASE = "FAKE-BLOFIN-KEY-7f3a", "fake-blofin-secret-9c1d2e", "fake-pass-4b8e"
INSTRUMENTS = [
    # the rules' specs (rules/venues.yaml): contract value, lot, tick, min size, max leverage
    ("BTC-USDT", "0.001", "1", "0.1", "1", "100"),
    ("ETH-USDT", "0.01", "1", "0.01", "1", "100"),
    ("SOL-USDT", "1", "1", "0.001", "1", "50"),
    ("DOGE-USDT", "1000", "1", "0.00001", "1", "50"),
]
HOLD_LIMIT_S = 30.0  # a held answer is released at teardown at the latest; this only bounds a broken test


def _sign(secret: str, path: str, method: str, ts: str, nonce: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{path}{method}{ts}{nonce}{body}".encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def _ms(ts: float) -> str:
    return str(int(ts * 1000))


@dataclass
class FakeOrder:
    order_id: str
    client_order_id: str
    inst_id: str
    side: str
    order_type: str
    price: Decimal | None
    size: Decimal
    reduce_only: bool
    created: float
    filled: Decimal = Decimal(0)
    state: str = "live"
    kind: str = "regular"  # regular | tpsl
    trigger: str = ""  # sl | tp for a TP/SL order

    def row(self) -> dict[str, Any]:
        if self.kind == "tpsl":
            trigger = str(self.price)
            return {
                "tpslId": self.order_id,
                "clientOrderId": self.client_order_id or None,
                "instId": self.inst_id,
                "marginMode": "cross",
                "positionSide": "net",
                "side": self.side,
                "tpTriggerPrice": trigger if self.trigger == "tp" else None,
                "tpOrderPrice": "-1" if self.trigger == "tp" else None,
                "slTriggerPrice": trigger if self.trigger == "sl" else None,
                "slOrderPrice": "-1" if self.trigger == "sl" else None,
                "size": str(self.size),
                "state": self.state,
                "leverage": "3",
                "reduceOnly": "true" if self.reduce_only else "false",
                "actualSize": None,
                "createTime": _ms(self.created),
                "brokerId": "",
            }
        return {
            "orderId": self.order_id,
            "clientOrderId": self.client_order_id,
            "instId": self.inst_id,
            "marginMode": "cross",
            "positionSide": "net",
            "side": self.side,
            "orderType": self.order_type,
            "price": f"{self.price:.18f}" if self.price is not None else "0.000000000000000000",
            "size": f"{self.size:.18f}",
            "reduceOnly": "true" if self.reduce_only else "false",
            "leverage": "3",
            "state": self.state,
            "filledSize": f"{self.filled:.18f}",
            "averagePrice": "",
            "fee": "0",
            "pnl": "0",
            "createTime": _ms(self.created),
            "updateTime": _ms(self.created),
            "orderCategory": "normal",
            "cancelSourceReason": "Order canceled by user" if self.state == "canceled" else "",
            "brokerId": "",
        }


@dataclass
class FakeBlofin:
    """The venue's state; the HTTP handler reads and changes it under ``lock``."""

    clock: Callable[[], float] = time.time
    last: dict[str, Decimal] = field(
        default_factory=lambda: {"BTC-USDT": Decimal("60000"), "ETH-USDT": Decimal("3000"), "SOL-USDT": Decimal("150")}
    )
    cash: Decimal = Decimal("10000")
    instruments: list[tuple[str, ...]] = field(default_factory=lambda: list(INSTRUMENTS))
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # inst → (contracts, avg price)
    fills: list[dict[str, Any]] = field(default_factory=list)
    leverage: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path with query, body)
    placed: Counter[str] = field(default_factory=Counter)  # client order id → orders created
    rejected_signatures: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    release: threading.Event = field(default_factory=threading.Event)
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _nonces: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    # -------------------------------------------------------------- test controls

    def fault(self, path: str, kind: str, times: int = 1) -> None:
        with self.lock:
            self._faults.setdefault(path, []).extend([kind] * times)

    def take_fault(self, path: str) -> str | None:
        with self.lock:
            queue = self._faults.get(path)
            return queue.pop(0) if queue else None

    def requests_to(self, path: str) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if urlsplit(r[1]).path == path]

    def order_by_client_id(self, client_order_id: str) -> FakeOrder:
        return next(o for o in self.orders.values() if o.client_order_id == client_order_id)

    def fill(self, order: FakeOrder, contracts: Decimal, price: Decimal | None = None) -> None:
        """Fill (part of) a resting order, as the matching engine would."""
        with self.lock:
            self._fill(order, contracts, price or order.price or self.last[order.inst_id])

    # -------------------------------------------------------------- the venue

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _instrument(self, inst_id: str) -> tuple[str, ...] | None:
        return next((i for i in self.instruments if i[0] == inst_id), None)

    def _fill(self, order: FakeOrder, contracts: Decimal, price: Decimal) -> None:
        order.filled += contracts
        order.state = "filled" if order.filled >= order.size else "partially_filled"
        signed = contracts if order.side == "buy" else -contracts
        held, avg = self.positions.get(order.inst_id, (Decimal(0), Decimal(0)))
        new = held + signed
        if held == 0 or (held > 0) == (signed > 0):
            avg = (abs(held) * avg + contracts * price) / abs(new)
        if new == 0:
            self.positions.pop(order.inst_id, None)
        else:
            self.positions[order.inst_id] = (new, avg)
        spec = self._instrument(order.inst_id)
        assert spec is not None
        fee = (contracts * Decimal(spec[1]) * price * Decimal("0.0006")).quantize(Decimal("1e-8"))
        self.cash -= fee
        self.fills.append(
            {
                "instId": order.inst_id,
                "tradeId": self._next_id(),
                "orderId": order.order_id,
                "fillPrice": f"{price:.18f}",
                "fillSize": f"{contracts:.18f}",
                "fillPnl": "0",
                "positionSide": "net",
                "side": order.side,
                "fee": f"{fee:.18f}",
                "ts": _ms(self.clock()),
                "brokerId": "",
            }
        )

    def place(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = body.get("clientOrderId", "")
        if cid and any(o.client_order_id == cid for o in self.orders.values()):
            return {"orderId": "", "clientOrderId": cid, "code": "102002", "msg": "Duplicate clientOrderId"}
        spec = self._instrument(body.get("instId", ""))
        if spec is None or "brokerId" in body:
            return {"orderId": "", "clientOrderId": cid, "code": "152002", "msg": "Parameter instId error"}
        size = Decimal(body["size"])
        if size < Decimal(spec[4]) or size % Decimal(spec[2]) != 0:
            return {"orderId": "", "clientOrderId": cid, "code": "152002", "msg": "Parameter size error"}
        reduce_only = body.get("reduceOnly") == "true"
        held = self.positions.get(body["instId"], (Decimal(0), Decimal(0)))[0]
        if reduce_only and (held == 0 or (held > 0) == (body["side"] == "buy")):
            return {"orderId": "", "clientOrderId": cid, "code": "102022", "msg": "Reduce-only order with no position"}
        order = FakeOrder(
            order_id=self._next_id(),
            client_order_id=cid,
            inst_id=body["instId"],
            side=body["side"],
            order_type=body["orderType"],
            price=Decimal(body["price"]) if "price" in body else None,
            size=size,
            reduce_only=reduce_only,
            created=self.clock(),
        )
        self.orders[order.order_id] = order
        self.placed[cid] += 1
        if order.order_type == "market":
            self._fill(order, size, self.last[order.inst_id])
        return {"orderId": order.order_id, "clientOrderId": cid, "code": "0", "msg": ""}

    def place_tpsl(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = body.get("clientOrderId", "")
        if cid and any(o.client_order_id == cid for o in self.orders.values()):
            return {"tpslId": None, "clientOrderId": cid, "code": "102002", "msg": "Duplicate clientOrderId"}
        sl, tp = body.get("slTriggerPrice"), body.get("tpTriggerPrice")
        order = FakeOrder(
            order_id=self._next_id(),
            client_order_id=cid,
            inst_id=body["instId"],
            side=body["side"],
            order_type="trigger",
            price=Decimal(sl or tp),
            size=Decimal(body["size"]),
            reduce_only=body.get("reduceOnly") == "true",
            created=self.clock(),
            kind="tpsl",
            trigger="sl" if sl else "tp",
        )
        self.orders[order.order_id] = order
        self.placed[cid] += 1
        return {"tpslId": order.order_id, "clientOrderId": cid or None, "code": "0", "msg": None}

    def cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(str(body.get("orderId")))
        if order is None or order.kind != "regular" or order.state not in ("live", "partially_filled"):
            return {"orderId": body.get("orderId"), "clientOrderId": None, "code": CANCEL_FAILED, "msg": CANCEL_MSG}
        order.state = "canceled" if order.filled == 0 else "partially_canceled"
        return {"orderId": order.order_id, "clientOrderId": order.client_order_id, "code": "0", "msg": None}

    def cancel_tpsl(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            order = self.orders.get(str(item.get("tpslId")))
            if order is None or order.kind != "tpsl" or order.state != "live":
                out.append({"tpslId": item.get("tpslId"), "clientOrderId": None, "code": "500", "msg": CANCEL_MSG})
                continue
            order.state = "canceled"
            out.append({"tpslId": order.order_id, "clientOrderId": order.client_order_id, "code": "0", "msg": None})
        return out


CANCEL_FAILED = "102068"
CANCEL_MSG = "Cancel failed as the order has been filled, triggered, canceled or does not exist."
PENDING = ("live", "partially_filled")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest's output clean
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # -------------------------------------------------------------- plumbing

    def _handle(self, method: str) -> None:
        venue = self.server.venue
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        with venue.lock:
            venue.requests.append((method, self.path, body))
        fault = venue.take_fault(parts.path)
        if fault == "hang":
            venue.release.wait(HOLD_LIMIT_S)
            return
        if fault is not None and fault != "hang_after_accept":
            self._fault(fault)
            return
        if parts.path.startswith(("/api/v1/account/", "/api/v1/trade/")):
            problem = self._check_signature(method, body)
            if problem is not None:
                self._json({"code": problem[0], "msg": problem[1], "data": None})
                return
        try:
            payload = self._route(method, parts.path, parse_qs(parts.query), body)
        except (KeyError, ValueError) as error:
            payload = {"code": "152001", "msg": f"Parameter error: {error}", "data": None}
        if fault == "hang_after_accept":
            venue.release.wait(HOLD_LIMIT_S)
            return
        self._json(payload)

    def _fault(self, fault: str) -> None:
        if fault == "429":
            self._raw(429, b'{"code":"429","msg":"Too Many Requests"}')
        elif fault == "403":
            self._raw(403, b"<html>403 Forbidden</html>")
        elif fault == "500":
            self._raw(500, b"<html>Internal Server Error</html>")
        elif fault == "malformed":
            self._raw(200, b"<html>not json{")
        elif fault == "truncated":
            self._raw(200, b'{"code":"0","msg":"success","data":[{"instId":"BTC-USDT","la')
        elif fault == "nonce":
            self._json({"code": "152407", "msg": "Repeated nonce", "data": None})
        elif fault == "clock":
            self._json({"code": "152405", "msg": "Timestamp expired", "data": None})
        elif fault == "echo":  # a venue that quotes what it was sent back in its error
            self._json({"code": "152001", "msg": f"bad request from {KEY} {SECRET} {PASSPHRASE}", "data": None})
        elif fault.startswith("code:"):
            self._json({"code": fault[5:], "msg": f"fake error {fault[5:]}", "data": None})
        else:
            raise AssertionError(f"unknown fault {fault}")

    def _check_signature(self, method: str, body: str) -> tuple[str, str] | None:
        venue, h = self.server.venue, self.headers
        ts, nonce, given = h.get("ACCESS-TIMESTAMP", ""), h.get("ACCESS-NONCE", ""), h.get("ACCESS-SIGN", "")
        if h.get("ACCESS-KEY") != KEY:
            return "152401", "API key does not exist"
        if h.get("ACCESS-PASSPHRASE") != PASSPHRASE:
            return "152408", "Passphrase error"
        if not ts.isdigit() or abs(int(ts) / 1000 - venue.clock()) > 60:
            return "152405", "Timestamp expired"
        if not hmac.compare_digest(given, _sign(SECRET, self.path, method, ts, nonce, body)):
            with venue.lock:
                venue.rejected_signatures += 1
            return "152409", "Signature verification failed"
        with venue.lock:
            if not nonce or nonce in venue._nonces:
                return "152407", "Repeated nonce"
            venue._nonces.add(nonce)
        return None

    def _json(self, payload: Any) -> None:
        self._raw(200, json.dumps(payload).encode())

    def _raw(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on a held answer

    # -------------------------------------------------------------- endpoints

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: str) -> Any:
        venue = self.server.venue
        arg = {k: v[0] for k, v in query.items()}
        with venue.lock:
            if method == "GET":
                return ok(self._get(venue, path, arg))
            parsed = json.loads(body)
            if path == "/api/v1/trade/order":
                item = venue.place(parsed)
                return {"code": "0" if item["code"] == "0" else "1", "msg": "", "data": [item]}
            if path == "/api/v1/trade/order-tpsl":
                item = venue.place_tpsl(parsed)
                return {"code": "0" if item["code"] == "0" else "1", "msg": "", "data": item}
            if path == "/api/v1/trade/cancel-order":
                item = venue.cancel(parsed)
                return {"code": "0" if item["code"] == "0" else "1", "msg": "", "data": item}
            if path == "/api/v1/trade/cancel-tpsl":
                items = venue.cancel_tpsl(parsed)
                return {"code": "0" if all(i["code"] == "0" for i in items) else "1", "msg": "", "data": items}
            if path == "/api/v1/account/set-leverage":
                venue.leverage[parsed["instId"]] = parsed["leverage"]
                return ok({**parsed, "positionSide": "net"})
        return {"code": "152001", "msg": f"unknown endpoint {path}", "data": None}

    def _get(self, venue: FakeBlofin, path: str, arg: dict[str, str]) -> Any:
        inst = arg.get("instId")
        now = _ms(venue.clock())
        if path == "/api/v1/market/instruments":
            return [_instrument_row(i) for i in venue.instruments if inst in (None, i[0])]
        if path == "/api/v1/market/tickers":
            return [_ticker_row(i, p, now) for i, p in venue.last.items() if inst in (None, i)]
        if path == "/api/v1/market/mark-price":
            return [
                {"instId": i, "indexPrice": str(p), "markPrice": str(p + 1), "ts": now} for i, p in venue.last.items()
            ]
        if path == "/api/v1/market/books":
            p = venue.last[arg["instId"]]
            return [
                {
                    "asks": [[str(p + 1), "10"], [str(p + 2), "5"]],
                    "bids": [[str(p - 1), "8"], [str(p - 2), "4"]],
                    "ts": now,
                }
            ]
        if path == "/api/v1/market/funding-rate":
            return [{"instId": arg["instId"], "fundingRate": "0.000100000000000000", "fundingTime": now}]
        if path == "/api/v1/market/candles":
            return _candles(venue, arg)
        if path == "/api/v1/account/balance":
            return _balance(venue)
        if path == "/api/v1/account/positions":
            return [_position_row(i, q, p) for i, (q, p) in venue.positions.items() if inst in (None, i)]
        if path in ("/api/v1/trade/orders-pending", "/api/v1/trade/orders-history"):
            pending = path.endswith("pending")
            return [
                o.row()
                for o in sorted(venue.orders.values(), key=lambda o: -int(o.order_id))
                if o.kind == "regular" and (o.state in PENDING) == pending and inst in (None, o.inst_id)
            ]
        if path in ("/api/v1/trade/orders-tpsl-pending", "/api/v1/trade/orders-tpsl-history"):
            pending, cid = path.endswith("pending"), arg.get("clientOrderId")
            return [
                o.row()
                for o in venue.orders.values()
                if o.kind == "tpsl" and (o.state == "live") == pending and cid in (None, o.client_order_id)
            ]
        if path == "/api/v1/trade/fills-history":
            begin = int(arg.get("begin", "0"))
            return [f for f in reversed(venue.fills) if int(f["ts"]) >= begin]
        raise KeyError(path)


def ok(data: Any) -> dict[str, Any]:
    return {"code": "0", "msg": "success", "data": data}


def _instrument_row(spec: tuple[str, ...]) -> dict[str, Any]:
    inst, value, lot, tick, min_size, lev = spec
    base, quote = inst.split("-")
    return {
        "instId": inst,
        "baseCurrency": base,
        "quoteCurrency": quote,
        "contractValue": value,
        "listTime": "1695000000000",
        "expireTime": "4070880000000",
        "maxLeverage": lev,
        "minSize": min_size,
        "lotSize": lot,
        "tickSize": tick,
        "instType": "SWAP",
        "contractType": "linear",
        "maxLimitSize": "100000",
        "maxMarketSize": "10000",
        "state": "live",
        "settleCurrency": quote,
    }


def _ticker_row(inst: str, p: Decimal, now: str) -> dict[str, Any]:
    return {
        "instId": inst,
        "last": str(p),
        "lastSize": "1",
        "askPrice": str(p + 1),
        "askSize": "10",
        "bidPrice": str(p - 1),
        "bidSize": "8",
        "high24h": str(p + 100),
        "open24h": str(p),
        "low24h": str(p - 100),
        "volCurrency24h": "1000",
        "vol24h": "1000000",
        "ts": now,
    }


def _candles(venue: FakeBlofin, arg: dict[str, str]) -> list[list[str]]:
    """One-minute rows every 60 s up to ``after`` (exclusive), newest first, like BloFin."""
    step = {"1m": 60, "5m": 300, "15m": 900, "1H": 3600, "4H": 14400, "1D": 86400}[arg.get("bar", "1m")]
    end = int(arg.get("after", _ms(venue.clock()))) // 1000
    limit = int(arg.get("limit", "500"))
    first = end - end % step
    if first * 1000 >= int(arg.get("after", "1" + "0" * 20)):
        first -= step
    rows = []
    p = venue.last[arg["instId"]]
    for n in range(limit):
        t = first - n * step
        rows.append([str(t * 1000), str(p), str(p + 5), str(p - 5), str(p + 1), "100", "0.1", "6000", "1"])
    return rows


def _balance(venue: FakeBlofin) -> dict[str, Any]:
    upnl = Decimal(0)
    for inst, (qty, avg) in venue.positions.items():
        spec = venue._instrument(inst)
        assert spec is not None
        upnl += qty * Decimal(spec[1]) * (venue.last[inst] - avg)
    equity = venue.cash + upnl
    return {
        "ts": _ms(venue.clock()),
        "totalEquity": str(equity),
        "isolatedEquity": "0",
        "details": [
            {
                "currency": "USDT",
                "equity": str(equity),
                "balance": str(venue.cash),
                "ts": _ms(venue.clock()),
                "isolatedEquity": "0",
                "available": str(equity),
                "availableEquity": str(equity),
                "frozen": "0",
                "orderFrozen": "0",
                "equityUsd": str(equity),
                "isolatedUnrealizedPnl": "0",
                "bonus": "0",
            }
        ],
    }


def _position_row(inst: str, qty: Decimal, avg: Decimal) -> dict[str, Any]:
    return {
        "positionId": "7982",
        "instId": inst,
        "instType": "SWAP",
        "marginMode": "cross",
        "positionSide": "net",
        "adl": "5",
        "positions": str(qty),
        "availablePositions": str(qty),
        "averagePrice": f"{avg:.18f}",
        "markPrice": str(avg),
        "marginRatio": "72.4",
        "liquidationPrice": "",
        "unrealizedPnl": "0",
        "unrealizedPnlRatio": "0",
        "maintenanceMargin": "0.6",
        "createTime": "1695352782370",
        "updateTime": "1695352782372",
        "leverage": "3",
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    venue: FakeBlofin


class FakeServer:
    """Runs a :class:`FakeBlofin` on 127.0.0.1 (an ephemeral port) in a thread."""

    def __init__(self, venue: FakeBlofin | None = None):
        self.venue = venue or FakeBlofin()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.venue = self.venue
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.venue.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
