"""A wire fake of the Upstash REST API: a REST-to-Redis shim over the session's real Redis.

Speaks what `upstash-redis` sends: `POST /` with a JSON command array, `/pipeline` and
`/multi-exec`; answers `{"result": ...}` (strings base64-encoded unless the client asked
otherwise, except the literal "OK") or `{"error": "..."}`. Checks the bearer token, counts
calls and can fail on demand (`fail_next(status, body)`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import redis

from tests.fakes.http_server import Answer, FakeHTTPServer


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


class FakeUpstash(FakeHTTPServer):
    """Run with `with FakeUpstash(redis_url) as fake: fake.url, fake.token`."""

    def __init__(self, redis_url: str, *, token: str = "upstash-test-token") -> None:
        super().__init__()
        self.token = token
        self.calls = 0
        self.commands: list[list[Any]] = []
        self._failures: list[tuple[int, str]] = []
        self._pool = redis.ConnectionPool.from_url(redis_url, protocol=2)

    def fail_next(self, status: int = 502, body: str = "<html>bad gateway</html>") -> None:
        """Answer the next request with this status and body instead of running it."""
        self._failures.append((status, body))

    def stop(self) -> None:
        super().stop()
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

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        if method != "POST":
            return self.json(501, {"error": "unsupported method"})
        self.calls += 1
        if self._failures:
            status, text = self._failures.pop(0)
            return status, {"Content-Type": "text/html"}, text.encode()
        if headers.get("Authorization") != f"Bearer {self.token}":
            return self.json(401, {"error": "Unauthorized"})
        b64 = headers.get("Upstash-Encoding", "").lower() == "base64"
        payload = json.loads(body)
        if path.rstrip("/") == "":
            reply: Any = self._run(payload)
        elif path == "/pipeline":
            reply = [self._run(cmd) for cmd in payload]
        elif path == "/multi-exec":
            done = self._run(["EVAL", _MULTI, 0, json.dumps(payload)])
            reply = [{"result": r} for r in done["result"]] if "result" in done else done
        else:
            return self.json(404, {"error": "not found"})
        if isinstance(reply, list):
            return self.json(200, [_encode_reply(r, b64) for r in reply])
        return self.json(200, _encode_reply(reply, b64))


# MULTI/EXEC over one pooled connection is awkward from a thread; a script is equally atomic.
_MULTI = """
local out = {}
for i, cmd in ipairs(cjson.decode(ARGV[1])) do
  out[i] = redis.call(unpack(cmd))
end
return out
"""
