"""A real JWKS endpoint on 127.0.0.1 (an ephemeral port), served from a thread so that both
async tests and `cqrs-orders serve` subprocesses can fetch from it.

What it serves can change while it runs (`publish`, `serve_body`, `fail`), and it counts the
requests it answered (`requests`), to prove how often a verifier fetches.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.identity.keys import SigningKey

PATH = "/.well-known/jwks.json"


class JwksServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status = 200
        self._body = b'{"keys": []}'
        self._requests = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        # stop() waits for serve_forever to notice, at most one poll interval
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="jwks-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    @property
    def requests(self) -> int:
        """How many times the key set was asked for so far."""
        with self._lock:
            return self._requests

    def publish(self, *keys: SigningKey | dict[str, Any]) -> None:
        """Serve these keys (SigningKeys' public JWKs, or raw JWK dicts) from now on, answering
        200 again if the server was failing."""
        jwks = [key.jwk if isinstance(key, SigningKey) else key for key in keys]
        self.serve_body(json.dumps({"keys": jwks}).encode())

    def serve_body(self, body: bytes, status: int = 200) -> None:
        """Answer every request with exactly this body and status from now on."""
        with self._lock:
            self._body, self._status = body, status

    def fail(self, status: int = 503) -> None:
        self.serve_body(b"unavailable", status)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def _answer(self) -> tuple[int, bytes]:
        with self._lock:
            self._requests += 1
            return self._status, self._body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = server._answer() if self.path == PATH else (404, b"not found")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                # a test's output stays its own; `requests` says what was asked
                pass

        return Handler


@contextlib.contextmanager
def serving_jwks(*keys: SigningKey | dict[str, Any]) -> Iterator[JwksServer]:
    """A running JWKS server publishing `keys` until the block ends."""
    server = JwksServer()
    server.publish(*keys)
    server.start()
    try:
        yield server
    finally:
        server.stop()
