"""A wire fake of the Upstash REST API: a REST-to-Redis shim over the session's real Redis.

Speaks what `upstash-redis` sends: `POST /` with a JSON command array, `/pipeline` and
`/multi-exec`; answers `{"result": ...}` (strings base64-encoded unless the client asked
otherwise, except the literal "OK") or `{"error": "..."}`. Checks the bearer token, counts
calls and can fail on demand (`fail_next(status, body)`).
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis


def _encode(value: Any, b64: bool) -> Any:
    if isinstance(value, bytes):
        if value == b"OK":
            return "OK"
        return base64.b64encode(value).decode() if b64 else value.decode()
    if isinstance(value, list | tuple):
        return [_encode(v, b64) for v in value]
    return value


def _encode_reply(reply: dict[str, Any], b64: bool) -> dict[str, Any]:
    return {**reply, "result": _encode(reply["result"], b64)} if "result" in reply else reply


class FakeUpstash:
    """Run with `with FakeUpstash(redis_url) as fake: fake.url, fake.token`."""

    def __init__(self, redis_url: str, *, token: str = "upstash-test-token") -> None:
        self.token = token
        self.calls = 0
        self.commands: list[list[Any]] = []
        self._failures: list[tuple[int, str]] = []
        self._pool = redis.ConnectionPool.from_url(redis_url, protocol=2)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, status: int = 502, body: str = "<html>bad gateway</html>") -> None:
        """Answer the next request with this status and body instead of running it."""
        self._failures.append((status, body))

    def __enter__(self) -> FakeUpstash:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._pool.disconnect()

    def _run(self, command: list[Any]) -> dict[str, Any]:
        self.commands.append(command)
        conn = self._pool.get_connection("_")
        try:
            conn.send_command(*command)
            return {"result": conn.read_response()}
        except redis.ResponseError as exc:
            return {"error": str(exc)}
        finally:
            self._pool.release(conn)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                fake.calls += 1
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake._failures:
                    status, body = fake._failures.pop(0)
                    return self._send(status, body, "text/html")
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, json.dumps({"error": "Unauthorized"}))
                b64 = self.headers.get("Upstash-Encoding", "").lower() == "base64"
                payload = json.loads(raw)
                if self.path.rstrip("/") == "":
                    reply: Any = fake._run(payload)
                elif self.path == "/pipeline":
                    reply = [fake._run(cmd) for cmd in payload]
                elif self.path == "/multi-exec":
                    done = fake._run(["EVAL", _MULTI, 0, json.dumps(payload)])
                    reply = [{"result": r} for r in done["result"]] if "result" in done else done
                else:
                    return self._send(404, json.dumps({"error": "not found"}))
                if isinstance(reply, list):
                    reply = [_encode_reply(r, b64) for r in reply]
                else:
                    reply = _encode_reply(reply, b64)
                return self._send(200, json.dumps(reply))

        return Handler


# MULTI/EXEC over one pooled connection is awkward from a thread; a script is equally atomic.
_MULTI = """
local out = {}
for i, cmd in ipairs(cjson.decode(ARGV[1])) do
  out[i] = redis.call(unpack(cmd))
end
return out
"""
