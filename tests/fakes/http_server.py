"""Base of the stdlib wire fakes: a ThreadingHTTPServer on 127.0.0.1 in a daemon thread.

Subclasses implement `handle(method, path, headers, body) -> (status, headers, payload)`;
the base reads the request body, writes the answer, and starts/stops the server:

    fake = FakeX().start() ... fake.stop()      # or: with FakeX() as fake: fake.url
    fake.mode = "ok" | ...                      # meaning is up to the subclass
    fake.hang()                                 # block a request until the fake stops (≤ 60 s)
"""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Answer = tuple[int, dict[str, str], bytes]


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Form fields of a multipart body: text fields as str, file parts as bytes."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        fields[name] = payload if part.get_filename() else payload.decode()
    return fields


class FakeHTTPServer:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread; subclasses implement `handle`."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.release = threading.Event()
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = fake.handle(self.command, self.path, self.headers, body)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeouts, hang tests)

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = do_OPTIONS = _dispatch

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> Self:
        """Serve in the background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def hang(self) -> None:
        """Block the calling request until the server stops (at most 60 s)."""
        self.release.wait(60)

    @staticmethod
    def json(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
        """A JSON answer."""
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        """Answer one request: (status, headers, payload)."""
        raise NotImplementedError
