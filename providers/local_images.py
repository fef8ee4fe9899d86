"""Offline image provider: a deterministic picture drawn with Pillow from the prompt."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
from typing import TYPE_CHECKING

from services.media.ports.images import ImageFile, ImageRequest, ImageResult

if TYPE_CHECKING:  # Pillow is imported by the functions that draw (not at start-up, issue 12)
    from PIL import Image


def _seed_for(prompt: str, seed: int | None) -> int:
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") & 0x7FFFFFFF


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, format={"jpeg": "JPEG", "png": "PNG"}.get(fmt, "WEBP"), quality=80)
    return out.getvalue()


def draw(prompt: str, *, width: int, height: int, seed: int, fmt: str = "webp") -> bytes:
    """The picture for (prompt, seed): a two-colour gradient with shapes, same bytes every time."""
    from PIL import Image, ImageDraw

    rng = random.Random(f"{prompt}|{seed}")
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel((0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    img = column.resize((width, height))
    pen = ImageDraw.Draw(img)
    for _ in range(6 + rng.randrange(6)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(min(width, height) // 16, min(width, height) // 4)
        colour = tuple(rng.randrange(256) for _ in range(3))
        box = (x0 - r, y0 - r, x0 + r, y0 + r)
        (pen.ellipse if rng.random() < 0.5 else pen.rectangle)(box, fill=colour)
    pen.text((16, 16), prompt[:60], fill=(255, 255, 255))
    return _encode(img, fmt)


def _edit(source: bytes, prompt: str, *, seed: int, fmt: str) -> bytes:
    from PIL import Image, ImageDraw, ImageOps

    rng = random.Random(f"{prompt}|{seed}")
    with Image.open(io.BytesIO(source)) as src:
        img = src.convert("RGB")
    tint = Image.new("RGB", img.size, tuple(rng.randrange(256) for _ in range(3)))
    img = Image.blend(ImageOps.posterize(img, 4), tint, 0.3)
    ImageDraw.Draw(img).text((16, 16), prompt[:60], fill=(255, 255, 255))
    return _encode(img, fmt)


class LocalImageProvider:
    """Always available, no network: labelled `"provider": "local"`."""

    name = "local"
    model = "local-draw-1"
    supports_edit = True
    render_libs = ("PIL.Image",)  # preloaded by a standalone worker (app/startup.py)

    async def generate(self, request: ImageRequest) -> ImageResult:
        """Draw `num_outputs` pictures at the requested size (seed + i for output i)."""
        seed = _seed_for(request.prompt, request.seed)
        width, height = request.size

        def work() -> list[ImageFile]:
            return [
                ImageFile.from_bytes(
                    draw(request.prompt, width=width, height=height, seed=seed + i, fmt=request.output_format)
                )
                for i in range(request.num_outputs)
            ]

        return ImageResult(self.name, self.model, await asyncio.to_thread(work), seed)

    async def edit(self, request: ImageRequest) -> ImageResult:
        """Posterise and tint the source picture, deterministically from the prompt."""
        assert request.source is not None
        source = request.source
        seed = _seed_for(request.prompt, request.seed)

        def work() -> list[ImageFile]:
            return [
                ImageFile.from_bytes(
                    _edit(
                        source,
                        request.prompt,
                        seed=seed + i,  # type: ignore[arg-type]
                        fmt=request.output_format,
                    )
                )
                for i in range(request.num_outputs)
            ]

        return ImageResult(self.name, self.model, await asyncio.to_thread(work), seed)
