"""A fake Kraken Futures on loopback: a real HTTP server (``ThreadingHTTPServer`` in a
thread) that verifies every private call's ``Authent`` with the published algorithm
(written out here, independently of the client's code), insists on rising nonces, keeps
orders, fills, positions and a balance, and injects faults on demand.

Faults (``FakeKraken.fault(path, kind, times=1)``):
``429`` / ``500`` / ``503`` (HTTP status), ``timeout`` (the answer is held, the request never
processed, until the client gives up and closes the connection), ``accepted_timeout`` (the
request is processed, then the answer held), ``accepted_truncated`` (processed, then half an
answer), ``truncated`` / ``html`` (a broken answer, not processed), ``nonce`` (a nonce
refusal), and any other word: HTTP 200 with ``{"result":"error","error":<word>}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KEY = "FAKE-KRAKEN-PUBLIC-KEY-7f3a9c"
SECRET = base64.b64encode(b"fake kraken secret 9d1e7b2c5a8f4e6d" * 2).decode("ascii")
STATUS_WINDOW_S = 5.0  # orders/status shows closed orders this long (reference §1.3)
V3 = "/derivatives/api/v3"

INSTRUMENTS = [  # the spec's InstrumentsExample shape: JSON numbers for XBT, strings (observed) for the rest
    {"symbol": "PF_XBTUSD", "type": "flexible_futures", "tradeable": True, "tickSize": 1, "contractSize": 1,
     "contractValueTradePrecision": 4, "base": "XBT", "quote": "USD", "pair": "XBT:USD",
     "marginLevels": [{"numNonContractUnits": 0, "initialMargin": 0.02, "maintenanceMargin": 0.01}]},
    {"symbol": "PF_ETHUSD", "type": "flexible_futures", "tradeable": True, "tickSize": "0.1", "contractSize": "1",
     "contractValueTradePrecision": "3",
     "marginLevels": [{"numNonContractUnits": "0", "initialMargin": "0.02", "maintenanceMargin": "0.01"}]},
    {"symbol": "PF_SOLUSD", "type": "flexible_futures", "tradeable": True, "tickSize": "0.01", "contractSize": "1",
     "contractValueTradePrecision": "2",
     "marginLevels": [{"numNonContractUnits": "0", "initialMargin": "0.02", "maintenanceMargin": "0.01"}]},
    {"symbol": "PI_XBTUSD", "type": "futures_inverse", "tradeable": True, "tickSize": 0.5, "contractSize": 1,
     "contractValueTradePrecision": 0,
     "marginLevels": [{"contracts": 0, "initialMargin": 0.02, "maintenanceMargin": 0.01}]},
]  # fmt: skip


def authent(secret: str, post_data: str, nonce: str, path: str) -> str:
    """The published algorithm (docs.kraken.com, "Authentication")."""
    endpoint = path[len("/derivatives") :] if path.startswith("/derivatives") else path
    digest = hashlib.sha256((post_data + nonce + endpoint).encode("utf-8")).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret), digest, hashlib.sha512).digest()).decode("ascii")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Order:
    order_id: str
    cli_ord_id: str
    symbol: str
    side: str
    kind: str  # mkt | lmt | stp | take_profit
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    reduce_only: bool
    at: float
    filled: Decimal = Decimal(0)
    state: str = "open"  # open | filled | cancelled
    closed_at: float = 0.0


@dataclass
class FakeKraken:
    """The venue's state and its behaviour; ``FakeServer`` puts it on the network."""

    clock: Callable[[], float]
    prices: dict[str, Decimal] = field(
        default_factory=lambda: {
            "PF_XBTUSD": Decimal("60000"),
            "PF_ETHUSD": Decimal("3000"),
            "PF_SOLUSD": Decimal("150"),
        }
    )
    instruments: list[dict[str, Any]] = field(default_factory=lambda: json.loads(json.dumps(INSTRUMENTS)))
    orders: dict[str, Order] = field(default_factory=dict)
    positions: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # symbol → (signed size, price)
    fills: list[dict[str, Any]] = field(default_factory=list)
    account_log: list[dict[str, Any]] = field(default_factory=list)
    cash: Decimal = Decimal("10000")
    liquidity: Decimal | None = None  # contracts a marketable order can take at once (None: all)
    accounts_missing: bool = False  # the demo environment's known limit
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    auth_failures: int = 0
    faults: dict[str, list[str]] = field(default_factory=dict)
    last_nonce: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fault(self, path: str, kind: str, times: int = 1) -> None:
        self.faults.setdefault(path, []).extend([kind] * times)

    def take_fault(self, path: str) -> str | None:
        with self.lock:
            queue = self.faults.get(path)
            return queue.pop(0) if queue else None

    def sent_orders(self) -> int:
        return sum(1 for _, path in self.calls if path == V3 + "/sendorder")

    # ------------------------------------------------------------------ authentication

    def verify(self, headers: Any, post_data: str, path: str) -> str | None:
        """None when signed right, else the venue's error name."""
        nonce = headers.get("Nonce", "")
        if headers.get("APIKey") != KEY:
            return "authenticationError"
        expected = authent(SECRET, post_data, nonce, path)
        if not hmac.compare_digest(expected, headers.get("Authent", "")):
            self.auth_failures += 1
            return "authenticationError"
        if nonce:
            with self.lock:
                if int(nonce) <= self.last_nonce:
                    return "nonceBelowThreshold"
                self.last_nonce = int(nonce)
        return None

    # ------------------------------------------------------------------ market data

    def route_public(self, path: str, query: dict[str, list[str]]) -> Any:
        if path == V3 + "/instruments":
            return {"result": "success", "instruments": self.instruments, "serverTime": iso(self.clock())}
        if path.startswith(V3 + "/tickers/"):
            symbol = path.rsplit("/", 1)[1].upper()
            price = self.prices[symbol]
            row = {"symbol": symbol.lower(), "tag": "perpetual", "markPrice": str(price), "last": float(price),
                   "bid": str(price - 1), "ask": str(price + 1), "bidSize": "1.5", "askSize": 2,
                   "fundingRate": str(price * Decimal("0.00001")), "openInterest": "1234.5",
                   "lastTime": iso(self.clock()), "suspended": False}  # fmt: skip
            return {"result": "success", "ticker": row, "serverTime": iso(self.clock())}
        if path == V3 + "/orderbook":
            price = self.prices[query["symbol"][0].upper()]
            bids = [[str(price - i), "0.5"] for i in range(1, 4)]
            asks = [[float(price + i), 0.25] for i in range(1, 4)]
            return {"result": "success", "orderBook": {"bids": bids, "asks": asks}, "serverTime": iso(self.clock())}
        if path.startswith("/api/charts/v1/trade/"):
            return self.charts(path, query)
        return None

    def charts(self, path: str, query: dict[str, list[str]]) -> Any:
        resolution = path.rsplit("/", 1)[1]
        step = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}[resolution]
        start, end = int(query["from"][0]), int(query["to"][0])
        first = -(-start // step) * step
        times = list(range(first, end + 1, step))
        page, more = times[:100], len(times) > 100
        candles = [{"time": t * 1000, "open": "100.0", "high": "101.5", "low": "99.5", "close": "100.5",
                    "volume": 7} for t in page]  # fmt: skip
        return {"candles": candles, "more_candles": more}

    # ------------------------------------------------------------------ trading

    def route_private(self, method: str, path: str, params: dict[str, list[str]]) -> Any:
        one = {k: v[0] for k, v in params.items()}
        now = self.clock()
        with self.lock:
            if path == V3 + "/sendorder":
                return self.send_order(one, now)
            if path == V3 + "/cancelorder":
                return self.cancel(one, now)
            if path == V3 + "/openorders":
                rows = [self.open_row(o) for o in self.orders.values() if o.state == "open"]
                return {"result": "success", "openOrders": rows, "serverTime": iso(now)}
            if path == V3 + "/orders/status":
                wanted = set(params.get("cliOrdIds", []))
                rows = [
                    self.status_row(o) for o in self.orders.values() if o.cli_ord_id in wanted and self.shown(o, now)
                ]
                return {"result": "success", "orders": rows, "serverTime": iso(now)}
            if path == V3 + "/openpositions":
                rows = [{"side": "long" if s > 0 else "short", "symbol": sym.lower(), "price": str(p),
                         "fillTime": iso(now), "size": str(abs(s)), "unrealizedFunding": "0"}
                        for sym, (s, p) in self.positions.items() if s != 0]  # fmt: skip
                return {"result": "success", "openPositions": rows, "serverTime": iso(now)}
            if path == V3 + "/accounts":
                if self.accounts_missing:
                    return None
                flex = {"type": "multiCollateralMarginAccount", "balanceValue": str(self.cash),
                        "portfolioValue": str(self.cash + Decimal("12.5")), "availableMargin": str(self.cash - 100),
                        "currencies": {"USD": {"quantity": str(self.cash), "value": str(self.cash)}}}  # fmt: skip
                return {"result": "success", "accounts": {"cash": {}, "flex": flex}, "serverTime": iso(now)}
            if path == V3 + "/fills":
                rows = sorted(self.fills, key=lambda f: f["_ts"], reverse=True)
                if "lastFillTime" in one:
                    before = datetime.fromisoformat(one["lastFillTime"].replace("Z", "+00:00")).timestamp()
                    rows = [f for f in rows if f["_ts"] < before]
                shown = [{k: v for k, v in f.items() if k != "_ts"} for f in rows[:100]]
                return {"result": "success", "fills": shown, "serverTime": iso(now)}
            if path == "/api/history/v3/account-log":
                return self.log_page(one)
        return None

    def log_page(self, p: dict[str, str]) -> Any:
        """The account log as the spec pages it: ``since`` (ms), ``from`` (first id), ``info``,
        ``sort``, ``count``."""
        since, first = int(p.get("since", "0")) / 1000, int(p.get("from", "0"))
        logs = [
            r
            for r in self.account_log
            if datetime.fromisoformat(r["date"].replace("Z", "+00:00")).timestamp() >= since
            and r["id"] >= first
            and ("info" not in p or r["info"] == p["info"])
        ]
        logs.sort(key=lambda r: r["id"], reverse=p.get("sort", "desc") == "desc")
        return {"accountUid": "fake-account", "logs": logs[: int(p.get("count", "500"))]}

    def shown(self, order: Order, now: float) -> bool:
        return order.state == "open" or now - order.closed_at <= STATUS_WINDOW_S

    def send_order(self, p: dict[str, str], now: float) -> Any:
        deadline = p.get("processBefore")
        if deadline and datetime.fromisoformat(deadline.replace("Z", "+00:00")).timestamp() < now:
            return self.status("wouldProcessAfterSpecifiedTime", "", [])
        cid = p.get("cliOrdId", "")
        if cid and any(o.cli_ord_id == cid for o in self.orders.values()):
            return self.status("clientOrderIdAlreadyExist", "", [])
        symbol = p["symbol"].upper()
        if symbol not in self.prices:
            return {"result": "error", "error": "contractNotFound", "serverTime": iso(now)}
        order = Order(
            order_id=f"ord-{next(self.ids):04d}-fake", cli_ord_id=cid, symbol=symbol, side=p["side"],
            kind=p["orderType"], quantity=Decimal(p["size"]), reduce_only=p.get("reduceOnly") == "true",
            limit_price=Decimal(p["limitPrice"]) if "limitPrice" in p else None,
            stop_price=Decimal(p["stopPrice"]) if "stopPrice" in p else None, at=now,
        )  # fmt: skip
        if order.reduce_only and not self.would_reduce(order):
            return self.status("wouldNotReducePosition", "", [])
        self.orders[order.order_id] = order
        events: list[dict[str, Any]] = [{"type": "PLACE", "order": self.event_row(order)}]
        if order.kind in ("stp", "take_profit"):
            events = [{"type": "PLACE", "orderTrigger": self.event_row(order)}]
        elif self.marketable(order):
            events = self.execute(order, now)
        if order.kind == "mkt" and order.state == "open":
            order.state, order.closed_at = "cancelled", now  # an IOC's rest does not rest
        return self.status("placed", order.order_id, events)

    def status(self, status: str, order_id: str, events: list[dict[str, Any]]) -> Any:
        now = iso(self.clock())
        body = {"order_id": order_id, "status": status, "receivedTime": now, "orderEvents": events}
        if status == "iocWouldNotExecute":
            body["orderEvents"] = [{"type": "REJECT", "reason": "IOC_WOULD_NOT_EXECUTE"}]
        return {"result": "success", "sendStatus": body, "serverTime": now}

    def marketable(self, order: Order) -> bool:
        if order.kind == "mkt":
            return True
        price = self.prices[order.symbol]
        assert order.limit_price is not None
        return order.limit_price >= price if order.side == "buy" else order.limit_price <= price

    def would_reduce(self, order: Order) -> bool:
        held = self.positions.get(order.symbol, (Decimal(0), Decimal(0)))[0]
        return (held > 0 and order.side == "sell") or (held < 0 and order.side == "buy")

    def execute(self, order: Order, now: float, amount: Decimal | None = None) -> list[dict[str, Any]]:
        """Fill ``amount`` (default: what the liquidity allows) at the current price."""
        rest = order.quantity - order.filled
        take = min(rest, amount if amount is not None else self.liquidity if self.liquidity is not None else rest)
        price = self.prices[order.symbol]
        prior = self.event_row(order)
        order.filled += take
        if order.filled >= order.quantity:
            order.state, order.closed_at = "filled", now
        signed = take if order.side == "buy" else -take
        held, entry = self.positions.get(order.symbol, (Decimal(0), Decimal(0)))
        new = held + signed
        entry = (
            price
            if held == 0 or (held > 0) != (new > 0)
            else (entry * abs(held) + price * take) / (abs(held) + take)
            if abs(new) > abs(held)
            else entry
        )
        self.positions[order.symbol] = (new, entry)
        fill_id = f"fill-{next(self.ids):04d}"
        self.fills.append({"fill_id": fill_id, "symbol": order.symbol.lower(), "side": order.side,
                           "order_id": order.order_id, "cliOrdId": order.cli_ord_id or None, "size": str(take),
                           "price": str(price), "fillTime": iso(now), "fillType": "taker", "_ts": now})  # fmt: skip
        return [{"type": "EXECUTION", "executionId": fill_id, "price": str(price), "amount": str(take),
                 "orderPriorExecution": prior}]  # fmt: skip

    def cancel(self, p: dict[str, str], now: float) -> Any:
        cid, oid = p.get("cliOrdId"), p.get("order_id")
        order = next((o for o in self.orders.values() if (cid and o.cli_ord_id == cid) or o.order_id == oid), None)
        if order is None or order.state == "cancelled":
            return {"result": "success", "cancelStatus": {"status": "notFound", "receivedTime": iso(now)}}
        if order.state == "filled":
            return {"result": "success", "cancelStatus": {"status": "filled", "order_id": order.order_id}}
        order.state, order.closed_at = "cancelled", now
        status = {"status": "cancelled", "order_id": order.order_id, "receivedTime": iso(now),
                  "orderEvents": [{"type": "CANCEL", "uid": order.order_id, "order": self.event_row(order)}]}  # fmt: skip
        return {"result": "success", "cancelStatus": status, "serverTime": iso(now)}

    def event_row(self, o: Order) -> dict[str, Any]:
        return {"orderId": o.order_id, "cliOrdId": o.cli_ord_id or None, "type": o.kind, "symbol": o.symbol,
                "side": o.side, "quantity": str(o.quantity), "filled": str(o.filled),
                "limitPrice": str(o.limit_price) if o.limit_price is not None else None,
                "reduceOnly": o.reduce_only, "timestamp": iso(o.at), "lastUpdateTimestamp": iso(o.at)}  # fmt: skip

    def open_row(self, o: Order) -> dict[str, Any]:
        kind = {"lmt": "lmt", "stp": "stop", "take_profit": "take_profit"}.get(o.kind, o.kind)
        return {"order_id": o.order_id, "cliOrdId": o.cli_ord_id or None, "symbol": o.symbol.lower(), "side": o.side,
                "orderType": kind, "limitPrice": float(o.limit_price) if o.limit_price else None,
                "stopPrice": str(o.stop_price) if o.stop_price else None, "unfilledSize": str(o.quantity - o.filled),
                "filledSize": str(o.filled), "reduceOnly": o.reduce_only,
                "status": "partiallyFilled" if o.filled else "untouched", "receivedTime": iso(o.at)}  # fmt: skip

    def status_row(self, o: Order) -> dict[str, Any]:
        status = {"open": "TRIGGER_PLACED" if o.kind in ("stp", "take_profit") else "ENTERED_BOOK",
                  "filled": "FULLY_EXECUTED", "cancelled": "CANCELLED"}[o.state]  # fmt: skip
        row = self.event_row(o) | {"type": "TRIGGER_ORDER" if o.kind in ("stp", "take_profit") else "ORDER"}
        return {"order": row, "status": status, "updateReason": None, "error": None}


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.handle_call("GET")

    def do_POST(self) -> None:
        self.handle_call("POST")

    def handle_call(self, method: str) -> None:
        venue = self.server.venue
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        post_data = body if method == "POST" else url.query
        with venue.lock:
            venue.calls.append((method, url.path))
        fault = venue.take_fault(url.path)
        if fault in ("429", "500", "503"):
            return self.send(int(fault), {"result": "error", "error": "Server Error"})
        if fault == "timeout":
            return self.hold()
        if fault == "truncated":
            return self.send_raw(200, b'{"result":"success","serverTi')
        if fault == "html":
            return self.send_raw(502, b"<html><body>Bad gateway</body></html>")
        if fault == "nonce":
            return self.send(200, {"result": "error", "error": "nonceDuplicate"})
        if fault is not None and not fault.startswith("accepted_"):
            return self.send(200, {"result": "error", "error": fault, "serverTime": iso(venue.clock())})
        params = parse_qs(post_data, keep_blank_values=True)
        answer = venue.route_public(url.path, params)
        if answer is None:
            if "Authent" not in self.headers:
                return self.send(401, {"result": "error", "error": "authenticationError"})
            refused = venue.verify(self.headers, post_data, url.path)
            if refused is not None:
                return self.send(200, {"result": "error", "error": refused})
            answer = venue.route_private(method, url.path, params)
        if answer is None:
            return self.send(404, {"result": "error", "error": "notFound"})
        if fault == "accepted_timeout":
            return self.hold()
        if fault == "accepted_truncated":
            return self.send_raw(200, json.dumps(answer).encode()[:40])
        self.send(200, answer)
        return None

    def send(self, status: int, answer: Any) -> None:
        self.send_raw(status, json.dumps(answer).encode())

    def send_raw(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def hold(self) -> None:
        """Answer nothing until the client gives up (closes its end) or the server stops."""
        self.close_connection = True
        sock = self.connection
        while not self.server.stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return
                except OSError:
                    return


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, venue: FakeKraken) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.venue = venue
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-kraken", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join()
