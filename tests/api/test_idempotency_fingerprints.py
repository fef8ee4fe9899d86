"""Idempotency fingerprints (issue 19): what makes two requests 'the same' is their content.

JSON: key order and whitespace don't matter. multipart: the parts' names and content, not the
boundary (a mobile client retrying an upload builds a new one). A replay of a 201/202 keeps
its `Location` header.
"""

from __future__ import annotations

import json

from services.platform.idempotency import canonical_body
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import picture


def _multipart(boundary: str, parts: list[tuple[str, str | None, str, bytes]]) -> bytes:
    out = b""
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


async def _charged(container, user_id: str) -> int:
    entries, _ = await container.credits.service.ledger(user_id, limit=100)
    return -sum(e.delta for e in entries if e.kind == "charge")


def test_canonical_body_ignores_json_key_order_and_spacing_and_multipart_boundaries():
    assert canonical_body("application/json", b'{"a": 1, "b": [1, 2]}') == \
        canonical_body("application/json; charset=utf-8", b'{\n "b":[1,2],\n "a":1}')
    assert canonical_body("application/json", b'{"a": 1}') != canonical_body("application/json", b'{"a": 2}')
    image = picture()
    hat, cap, png = ("prompt", None, "text/plain", b"hat"), ("prompt", None, "text/plain", b"cap"), \
        ("image", "a.png", "image/png", image)
    one = _multipart("AaB03x", [hat, png])
    two = _multipart("zzz-9", [png, hat])
    assert canonical_body("multipart/form-data; boundary=AaB03x", one) == \
        canonical_body('multipart/form-data; boundary="zzz-9"', two)
    other = _multipart("zzz-9", [png, cap])
    assert canonical_body("multipart/form-data; boundary=zzz-9", other) != \
        canonical_body("multipart/form-data; boundary=zzz-9", two)
    nested = b'{"a":' * 5000  # not JSON at all: hashed as raw bytes, no RecursionError
    assert canonical_body("application/json", nested) == nested


async def test_a_json_retry_with_reordered_keys_replays_the_202_with_its_location(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers = {**await auth_headers(images_app, "fp_json"), "Idempotency-Key": "gen-1",
               "Content-Type": "application/json"}
    user = await container.identity.users.ensure_clerk_user("fp_json")
    first = await client.post("/api/v1/images", headers=headers,
                              data=json.dumps({"prompt": "a red fox", "aspect_ratio": "16:9"}))
    assert first.status_code == 202 and first.headers["Location"].endswith((await first.get_json())["id"])
    retry = await client.post("/api/v1/images", headers=headers,
                              data='{\n  "aspect_ratio" : "16:9",\n  "prompt" : "a red fox"\n}')
    assert retry.status_code == 202 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert await retry.get_data() == await first.get_data()
    assert await _charged(container, user.id) == 1
    different = await client.post("/api/v1/images", headers=headers,
                                  data=json.dumps({"prompt": "a blue fox", "aspect_ratio": "16:9"}))
    assert different.status_code == 422 and (await different.get_json())["code"] == "idempotency_mismatch"


async def test_a_multipart_upload_retried_with_a_new_boundary_gets_the_first_answer(images_app):
    client, container = images_app.test_client(), images_app.extensions["container"]
    auth = {**await auth_headers(images_app, "fp_upload"), "Idempotency-Key": "edit-1"}
    user = await container.identity.users.ensure_clerk_user("fp_upload")
    image = picture("PNG", (120, 80))
    parts = [("prompt", None, "text/plain; charset=utf-8", b"add a hat"),
             ("image", "IMG_0001.png", "image/png", image)]
    first = await client.post("/api/v1/images/edits", data=_multipart("mobile-1", parts),
                              headers={**auth, "Content-Type": "multipart/form-data; boundary=mobile-1"})
    body = await first.get_json()
    assert first.status_code == 202, body
    retry = await client.post("/api/v1/images/edits", data=_multipart("mobile-2", parts),
                              headers={**auth, "Content-Type": "multipart/form-data; boundary=mobile-2"})
    assert retry.status_code == 202 and retry.headers["Idempotent-Replayed"] == "true"
    assert (await retry.get_json())["id"] == body["id"]
    assert retry.headers["Location"] == first.headers["Location"]
    assert await _charged(container, user.id) == 2  # one edit, charged once
    changed = [parts[0], ("image", "IMG_0001.png", "image/png", picture("PNG", (120, 80), "red"))]
    other = await client.post("/api/v1/images/edits", data=_multipart("mobile-3", changed),
                              headers={**auth, "Content-Type": "multipart/form-data; boundary=mobile-3"})
    assert other.status_code == 422 and (await other.get_json())["code"] == "idempotency_mismatch"
