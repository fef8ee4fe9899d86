"""Offline video provider: a real, playable MP4 rendered from the prompt (or the source image)."""

from __future__ import annotations

import asyncio
import io
import random

from providers.local_images import draw
from providers.mp4 import render, video_file
from services.media.ports.videos import VideoRequest, VideoResult

FPS = 12
SCALE = 2  # rendered at half the nominal size: the same aspect ratio, quick to encode


def _frames(request: VideoRequest, width: int, height: int, seed: int):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw  # here, not at start-up (issue 12)

    if request.source is not None:
        with Image.open(io.BytesIO(request.source)) as src:
            base = src.convert("RGB").resize((width, height))
    else:
        with Image.open(io.BytesIO(draw(request.prompt, width=width, height=height, seed=seed,
                                        fmt="png"))) as img:
            base = img.convert("RGB")
    rng = random.Random(f"{request.prompt}|{seed}")
    colour = tuple(rng.randrange(256) for _ in range(3))
    radius = max(4, min(width, height) // 10)

    def frame(i: int, n: int) -> Image.Image:
        # a slow zoom into the picture and a ball crossing it: every frame differs
        t = i / max(1, n - 1)
        crop = 1 - 0.2 * t
        cw, ch = int(width * crop), int(height * crop)
        left, top = (width - cw) // 2, (height - ch) // 2
        img = base.crop((left, top, left + cw, top + ch)).resize((width, height))
        x = int(radius + (width - 2 * radius) * t)
        y = int(height / 2 + (height / 4) * (1 - 4 * (t - 0.5) ** 2) * (-1))
        ImageDraw.Draw(img).ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        return img

    return frame


class LocalVideoProvider:
    """Always available, no network: labelled `"provider": "local"`."""

    name = "local"
    model = "local-render-1"
    supports_image = True
    render_libs = ("av", "PIL.Image")  # preloaded by a standalone worker (app/startup.py)

    async def generate(self, request: VideoRequest) -> VideoResult:
        """Render `duration_s` seconds at the requested aspect ratio (FPS frames a second)."""
        seed = request.seed if request.seed is not None else random.Random(request.prompt).randrange(2**31)
        nominal_w, nominal_h = request.size
        width, height = nominal_w // SCALE // 2 * 2, nominal_h // SCALE // 2 * 2

        def work() -> VideoResult:
            data = render(_frames(request, width, height, seed), width=width, height=height, fps=FPS,
                          duration_s=request.duration_s)
            return VideoResult(self.name, self.model, [video_file(data)], seed)

        return await asyncio.to_thread(work)
