"""A local Sentry ingest endpoint: the real sentry-sdk sends its envelopes here (DSN on 127.0.0.1).

    fake = FakeSentry().start()
    dsn = fake.dsn                      # http://<key>@127.0.0.1:<port>/<project>
    fake.events                         # the error events received (decoded JSON)
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from tests.fakes.http_server import Answer, FakeHTTPServer


def envelope_items(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """(item header, payload) pairs of a Sentry envelope (the first line is the envelope header)."""
    items: list[tuple[dict[str, Any], bytes]] = []
    _, _, rest = body.partition(b"\n")
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"]:]
            rest = rest[1:] if rest.startswith(b"\n") else rest
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


class FakeSentry(FakeHTTPServer):
    """Accepts `POST /api/<project>/envelope/` and keeps the error events."""

    def __init__(self, key: str = "publickey", project: str = "42") -> None:
        super().__init__()
        self.project = project
        self.dsn = self.url.replace("http://", f"http://{key}@") + f"/{project}"
        self.events: list[dict[str, Any]] = []
        self.envelopes = 0

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        if method != "POST" or not path.startswith(f"/api/{self.project}/envelope/"):
            return self.json(404, {"detail": "not found"})
        if (headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        items = envelope_items(body)
        events = [json.loads(payload) for header, payload in items if header.get("type") == "event"]
        with self.lock:
            self.envelopes += 1
            self.events.extend(events)
        return self.json(200, {"id": events[0].get("event_id") if events else None})
