"""Wire fake of the Cloudinary upload API (upload, destroy, delivery).

    fake = FakeCloudinary().start()     # cloudinary://key:secret@demo?upload_prefix=<fake.url>
    fake.mode = "ok" | "fail" (400) | "hang"
    fake.assets                         # public_id → bytes currently stored
    fake.uploads, fake.destroys, fake.bad_signatures

Every upload and destroy must carry a valid SHA-1 signature made with the
API secret (recomputed here as the SDK does); otherwise 401.
"""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from PIL import Image

from tests.fakes.http_server import FakeHTTPServer, parse_multipart


def signature(params: dict[str, Any], secret: str) -> str:
    """Cloudinary's request signature (v2: `&` inside a value escaped as %26)."""
    pairs = sorted(
        f"{k}={str(v).replace('&', '%26')}"
        for k, v in params.items()
        if k not in ("file", "api_key", "signature", "resource_type") and v not in ("", None)
    )
    return hashlib.sha1(("&".join(pairs) + secret).encode()).hexdigest()


class FakeCloudinary(FakeHTTPServer):
    """Stores uploaded assets in memory and serves them back."""

    def __init__(self, cloud: str = "demo", api_key: str = "1234", api_secret: str = "shhh") -> None:
        super().__init__()
        self.cloud, self.api_key, self.api_secret = cloud, api_key, api_secret
        self.assets: dict[str, bytes] = {}
        self.uploads = self.destroys = self.bad_signatures = 0
        self.authenticated: set[str] = set()  # public_ids uploaded with type=authenticated
        self.resource_types: dict[str, str] = {}  # public_id → image | video (as uploaded)

    def _delivery_signature(self, public_id: str) -> str:
        digest = hashlib.sha1((public_id + self.api_secret).encode()).hexdigest()[:8]
        return f"s--{digest}--"

    @property
    def cloudinary_url(self) -> str:
        return f"cloudinary://{self.api_key}:{self.api_secret}@{self.cloud}?upload_prefix={self.url}"

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        prefix = f"/v1_1/{self.cloud}/image/"
        if method == "GET" and path.startswith(f"/{self.cloud}/video/upload/"):
            public_id = re.sub(r"^v\d+/", "", path.split("/video/upload/", 1)[1]).rsplit(".", 1)[0]
            data = self.assets.get(public_id) if self.resource_types.get(public_id) == "video" else None
            return (200, {"Content-Type": "video/mp4"}, data) if data else self.json(404, {})
        if method == "GET" and path.startswith(f"/{self.cloud}/image/upload/"):
            public_id = re.sub(r"^v\d+/", "", path.split("/image/upload/", 1)[1]).rsplit(".", 1)[0]
            data = None if public_id in self.authenticated else self.assets.get(public_id)
            return (200, {"Content-Type": "image/webp"}, data) if data else self.json(404, {})
        if method == "GET" and path.startswith(f"/{self.cloud}/image/authenticated/"):
            rest = path.split("/image/authenticated/", 1)[1]
            sig, _, rest = rest.partition("/")
            public_id = re.sub(r"^v\d+/", "", rest).rsplit(".", 1)[0]
            ok = public_id in self.authenticated and sig == self._delivery_signature(public_id)
            data = self.assets.get(public_id) if ok else None
            return (200, {"Content-Type": "image/webp"}, data) if data else self.json(404, {})
        resource_type = "image"
        if path.startswith(f"/v1_1/{self.cloud}/video/"):
            prefix, resource_type = f"/v1_1/{self.cloud}/video/", "video"
        if method != "POST" or not path.startswith(prefix):
            return self.json(404, {"error": {"message": "Not found"}})
        fields = parse_multipart(headers.get("Content-Type", ""), body)
        if self.mode == "hang":
            self.hang()
        if self.mode == "fail":
            return self.json(400, {"error": {"message": "Invalid image file"}})
        if fields.get("api_key") != self.api_key or fields.get("signature") != signature(
            fields, self.api_secret
        ):
            with self.lock:
                self.bad_signatures += 1
            return self.json(401, {"error": {"message": "Invalid Signature"}})
        action = path[len(prefix) :]
        if action == "upload":
            return self._upload(fields, resource_type)
        if action == "destroy":
            with self.lock:
                self.destroys += 1
                same_type = self.resource_types.get(fields["public_id"], "image") == resource_type
                found = self.assets.pop(fields["public_id"], None) if same_type else None
            return self.json(200, {"result": "ok" if found is not None else "not found"})
        return self.json(404, {"error": {"message": "Unknown action"}})

    def _upload(self, fields: dict[str, Any],
                resource_type: str = "image") -> tuple[int, dict[str, str], bytes]:
        data = fields.get("file")
        if not isinstance(data, bytes):
            return self.json(400, {"error": {"message": "Missing file"}})
        if resource_type == "video":
            if data[4:8] != b"ftyp":
                return self.json(400, {"error": {"message": "Invalid video file"}})
            width, height, fmt = 0, 0, "mp4"
        else:
            with Image.open(io.BytesIO(data)) as img:
                width, height, fmt = img.size[0], img.size[1], (img.format or "png").lower()
        public_id = "/".join(p for p in (fields.get("folder"), fields.get("public_id")) if p)
        kind = fields.get("type") or "upload"
        with self.lock:
            self.uploads += 1
            self.assets[public_id] = data
            self.resource_types[public_id] = resource_type
            if kind == "authenticated":  # delivered only through the signed URL returned here
                self.authenticated.add(public_id)
        url = f"{self.url}/{self.cloud}/{resource_type}/upload/v1700000000/{public_id}.{fmt}"
        if kind == "authenticated":
            sig = self._delivery_signature(public_id)
            url = f"{self.url}/{self.cloud}/image/authenticated/{sig}/v1700000000/{public_id}.{fmt}"
        return self.json(
            200,
            {
                "asset_id": f"a{self.uploads}",
                "public_id": public_id,
                "version": 1700000000,
                "width": width,
                "height": height,
                "format": fmt,
                "resource_type": resource_type,
                "type": kind,
                "bytes": len(data),
                "url": url,
                "secure_url": url,
            },
        )
