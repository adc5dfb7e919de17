"""A small stand-in for LINE's Messaging API for tests: records every reply and push, answers as LINE does.

``expired`` holds reply tokens to refuse with LINE's ``400 {"message": "Invalid reply token"}``; ``fail_status`` makes
every call fail with that HTTP status. A reply token is accepted once (a second use is refused, as LINE does).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StubLine:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []  # {"path", "body", "headers"} per request, in arrival order
        self.expired: set[str] = set()
        self.used: set[str] = set()
        self.fail_status = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with stub.lock:
                    stub.calls.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                    token = body.get("replyToken")
                    reused = token in stub.used
                    if token:
                        stub.used.add(token)
                if stub.fail_status:
                    return self._send(stub.fail_status, {"message": "scripted failure"})
                if self.path == "/v2/bot/message/reply" and (token in stub.expired or reused):
                    return self._send(400, {"message": "Invalid reply token"})
                if self.path in ("/v2/bot/message/reply", "/v2/bot/message/push"):
                    return self._send(200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})
                return self._send(404, {"message": "Not found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def sent(self, path: str = "") -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["path"].endswith(path)]

    def wait(self, n: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The first ``n`` calls, waiting for them (the bot answers after its webhook response)."""
        deadline = time.monotonic() + timeout
        while len(self.sent()) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {n} calls to the LINE stub, got {self.sent()}")
            time.sleep(0.02)
        return self.sent()[:n]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
