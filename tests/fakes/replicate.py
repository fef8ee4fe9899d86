"""Wire fake of the Replicate predictions API.

    fake = FakeReplicate().start()      # fake.url → REPLICATE_BASE_URL
    fake.mode = "ok" | "fail" | "5xx" | "hang" | "running"   # running: created, never finishes
    fake.output_kind = "http" | "data"  # output files served by the fake itself, or data: URIs
    fake.creates, fake.polls, fake.downloads, fake.inputs   # counters and what was asked
    fake.cancels                          # POST /v1/predictions/{id}/cancel calls (billing stopped)

A created prediction answers "starting"; the first poll answers "succeeded"
(or "failed" in mode "fail"). Outputs are real WebP pictures at the size of
the requested aspect ratio; a video model's (its input has a `duration`) is one
small real MP4 (H.264) of that many seconds.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from providers.local_images import draw
from services.media.ports.images import dimensions
from services.media.ports.videos import video_size
from tests.fakes.http_server import FakeHTTPServer


class FakeReplicate(FakeHTTPServer):
    """Predictions create/get with polling; output files served at /files/…"""

    def __init__(self, token: str = "r8_test") -> None:
        super().__init__()
        self.token = token
        self.output_kind = "http"
        self.creates = self.polls = self.downloads = self.cancels = 0
        self.inputs: list[dict[str, Any]] = []
        self._predictions: dict[str, dict[str, Any]] = {}
        self._files: dict[str, bytes] = {}

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/files/") and method == "GET":
            with self.lock:
                self.downloads += 1
                data = self._files.get(path)
            kind = "video/mp4" if path.endswith(".mp4") else "image/webp"
            return (200, {"Content-Type": kind}, data) if data else self.json(404, {"detail": "no"})
        if headers.get("Authorization") != f"Bearer {self.token}":
            return self.json(401, {"detail": "Invalid token", "status": 401, "title": "Unauthenticated"})
        parts = path.strip("/").split("/")
        if (
            method == "POST"
            and len(parts) == 5
            and parts[:2] == ["v1", "models"]
            and parts[4] == "predictions"
        ):
            return self._create(f"{parts[2]}/{parts[3]}", json.loads(body or b"{}"))
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "predictions"]:
            return self._poll(parts[2])
        if method == "POST" and parts[:2] == ["v1", "predictions"] and parts[3:] == ["cancel"]:
            return self._cancel(parts[2])
        return self.json(404, {"detail": "Not found", "status": 404})

    def _create(self, model: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.creates += 1
            self.inputs.append(body.get("input", {}))
            pid = f"p{self.creates}"
        if self.mode == "hang":
            self.hang()
        if self.mode == "5xx":
            return self.json(503, {"detail": "Service unavailable", "status": 503, "title": "Unavailable"})
        prediction = {
            "id": pid,
            "model": model,
            "version": "v-fake",
            "status": "starting",
            "input": body.get("input", {}),
            "output": None,
            "error": None,
            "logs": "",
            "urls": {"get": f"{self.url}/v1/predictions/{pid}"},
        }
        with self.lock:
            self._predictions[pid] = prediction
        return self.json(201, prediction)

    def _poll(self, pid: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.polls += 1
            prediction = self._predictions.get(pid)
        if prediction is None:
            return self.json(404, {"detail": "Not found", "status": 404})
        if self.mode == "fail":
            prediction.update(status="failed", error="NSFW content detected")
        elif self.mode == "running" and prediction["status"] in ("starting", "processing"):
            prediction.update(status="processing")
        elif prediction["status"] == "starting":
            prediction.update(
                status="succeeded",
                output=self._outputs(pid, prediction["input"]),
                logs=f"Using seed: {prediction['input'].get('seed')}",
            )
        return self.json(200, prediction)

    def _cancel(self, pid: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            prediction = self._predictions.get(pid)
            if prediction is None:
                return self.json(404, {"detail": "Not found", "status": 404})
            self.cancels += 1
            if prediction["status"] in ("starting", "processing"):
                prediction.update(status="canceled")
        return self.json(200, prediction)

    def _video(self, pid: str, params: dict[str, Any]) -> list[str]:
        from PIL import Image

        from providers.mp4 import render

        width, height = (w // 4 // 2 * 2 for w in video_size(params.get("aspect_ratio", "16:9")))
        data = render(lambda i, n: Image.new("RGB", (width, height), (40 * i % 256, 90, 160)), width=width,
                      height=height, fps=6, duration_s=float(params["duration"]))
        path = f"/files/{pid}/out.mp4"
        with self.lock:
            self._files[path] = data
        return [self.url + path]

    def _outputs(self, pid: str, params: dict[str, Any]) -> list[str] | str:
        if "duration" in params:
            return self._video(pid, params)[0]
        width, height = dimensions(params.get("aspect_ratio", "1:1"))
        fmt = params.get("output_format", "webp")
        urls = []
        for i in range(int(params.get("num_outputs", 1))):
            data = draw(
                params.get("prompt", ""),
                width=width,
                height=height,
                seed=int(params.get("seed") or 0) + i,
                fmt=fmt,
            )
            if self.output_kind == "data":
                urls.append(f"data:image/{fmt};base64,{base64.b64encode(data).decode()}")
            else:
                path = f"/files/{pid}/out-{i}.{fmt}"
                with self.lock:
                    self._files[path] = data
                urls.append(self.url + path)
        return urls
