"""Idempotency keys (contract §1): the first response to a key is replayed for 24 h.

`begin` claims the key (one insert, unique by principal + key) or answers
with what is stored: the same fingerprint and a finished response → replay;
a different fingerprint → 422 `idempotency_mismatch`; still running → 409.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from urllib.parse import parse_qsl

from services.platform.clock import utcnow
from services.platform.errors import IdempotencyInFlight, IdempotencyMismatch, ValidationFailed

# These live with their port (in the domain's ports); imported from here too.
from services.platform.ports.idempotency import IdempotencyRecord as IdempotencyRecord
from services.platform.ports.idempotency import IdempotencyRepository as IdempotencyRepository

TTL = timedelta(hours=24)
LOCK = timedelta(minutes=5)  # an in-flight claim older than this belongs to a dead request






def canonical_body(content_type: str | None, body: bytes) -> bytes:
    """What of a body makes two requests 'the same', independent of how it happened to be encoded.

    JSON: the parsed value re-serialised with sorted keys and no whitespace. multipart/form-data:
    each part's name and a hash of its content, sorted (not the boundary, filenames or part order).
    urlencoded forms: the sorted pairs. Anything else, or a body that does not parse: the raw bytes.
    """
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        if kind == "application/json" or kind.endswith("+json"):
            value = json.loads(body)
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        if kind == "multipart/form-data":
            parts = _multipart_parts(content_type or "", body)
            if parts is not None:
                return json.dumps(sorted(parts)).encode()
        if kind == "application/x-www-form-urlencoded":
            return json.dumps(sorted(parse_qsl(body.decode(), keep_blank_values=True))).encode()
    except (ValueError, RecursionError, UnicodeDecodeError):
        pass
    return body


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str]] | None:
    """(name, sha256 of content) of each part; None when the body is not well-formed multipart."""
    boundary = next((p.split("=", 1)[1].strip().strip('"') for p in content_type.split(";")[1:]
                     if p.strip().lower().startswith("boundary=")), "")
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        return None
    parts = []
    for section in sections[1:-1]:
        head, sep, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep or not content.endswith(b"\r\n"):
            return None
        name = re.search(rb'(?im)^content-disposition:.*?\bname="([^"]*)"', head)
        parts.append((name.group(1).decode("utf-8", "replace") if name else "",
                      hashlib.sha256(content[:-2]).hexdigest()))
    return parts


def fingerprint(*parts: bytes | str) -> str:
    """A hash of what makes two requests 'the same' (method, path, query, body)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


class IdempotencyService:
    """Claims keys, replays stored responses."""

    def __init__(self, records: IdempotencyRepository, *, ttl: timedelta = TTL,
                 lock: timedelta = LOCK) -> None:
        self._records, self._ttl, self._lock = records, ttl, lock

    @staticmethod
    def record_id(scope: str, key: str) -> str:
        """The stored id of a principal's key."""
        return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()

    async def begin(self, scope: str, key: str, print_: str) -> IdempotencyRecord | None:
        """None: go ahead (the key is now ours). A record: replay it. Raises 409/422 otherwise."""
        if not 1 <= len(key) <= 255:
            raise ValidationFailed("Idempotency-Key must be 1..255 characters.",
                                   errors=[{"loc": ["header", "Idempotency-Key"],
                                            "msg": "1..255 characters"}])
        now = utcnow()
        mine = IdempotencyRecord(id=self.record_id(scope, key), scope=scope, key=key, fingerprint=print_,
                                 created_at=now, locked_until=now + self._lock, expires_at=now + self._ttl)
        existing = await self._records.claim(mine)
        if existing is None:
            return None
        if existing.expires_at <= now or (existing.state == "in_flight" and existing.locked_until <= now):
            if await self._records.take_over(mine, now=now):
                return None
            raise IdempotencyInFlight()
        if existing.fingerprint != print_:
            raise IdempotencyMismatch()
        if existing.state != "done":
            raise IdempotencyInFlight()
        return existing

    async def complete(self, scope: str, key: str, *, status: int, body: str, content_type: str,
                       headers: dict[str, str] | None = None) -> None:
        """Store the first response for replay, with the `headers` a replay repeats."""
        await self._records.complete(self.record_id(scope, key), status=status, body=body,
                                     content_type=content_type, headers=headers or {})

    async def abandon(self, scope: str, key: str) -> None:
        """Forget an unfinished claim (the request failed in a retryable way)."""
        await self._records.release(self.record_id(scope, key))
