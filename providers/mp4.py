"""MP4 files with PyAV (FFmpeg's libraries, shipped in its wheel): render, inspect, take a poster.

PyAV is imported by the functions that use it, not with this module: a web process wires the
local video provider (the fallback) but may never render, and PyAV is ~16 MB of memory (issue 12).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.media.ports.videos import VideoFile

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class Probe:
    """What a decoder reads from an MP4: container, codec, size, frames, duration, frame rate."""

    container: str
    codec: str
    width: int
    height: int
    frames: int
    duration_s: float
    fps: int


def encode(frames: Iterator[Image.Image], *, width: int, height: int, fps: int) -> bytes:
    """H.264 (yuv420p, what every browser plays) in an MP4 with its index first (`faststart`)."""
    with tempfile.TemporaryDirectory(prefix="muse-mp4-") as tmp:  # faststart rewrites the file
        path = Path(tmp) / "out.mp4"
        _encode_to(str(path), frames, width=width, height=height, fps=fps)
        return path.read_bytes()


def _encode_to(path: str, frames: Iterator[Image.Image], *, width: int, height: int, fps: int) -> None:
    import av

    with av.open(path, "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_image(image.convert("RGB"))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def probe(data: bytes) -> Probe:
    """Decode every frame of `data` (ValueError when it is not a playable video)."""
    import av

    try:
        with av.open(io.BytesIO(data), "r") as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))  # type: ignore[misc]
            rate = stream.average_rate or stream.guessed_rate
            fps = round(float(rate)) if rate else 0
            duration = (float(container.duration) / av.time_base if container.duration
                        else (frames / fps if fps else 0.0))
            return Probe(container.format.name, stream.codec_context.name, stream.width, stream.height,
                         frames, round(duration, 3), fps)
    except (av.FFmpegError, IndexError, StopIteration) as exc:
        raise ValueError("not a playable video") from exc
    raise AssertionError("unreachable")  # pragma: no cover (mypy: the with block returns)


def poster(data: bytes, *, fmt: str = "WEBP") -> bytes:
    """The first frame of the video as a still picture."""
    import av

    try:
        with av.open(io.BytesIO(data), "r") as container:
            frame = next(container.decode(video=0))
            image = frame.to_image()
    except (av.FFmpegError, StopIteration) as exc:
        raise ValueError("not a playable video") from exc
    out = io.BytesIO()
    image.save(out, format=fmt, quality=80)
    return out.getvalue()


def video_file(data: bytes) -> VideoFile:
    """An MP4's bytes with what was read from them and its poster (ValueError when unplayable)."""
    info = probe(data)
    if info.frames == 0:
        raise ValueError("the video has no frames")
    return VideoFile(data=data, width=info.width, height=info.height, duration_s=info.duration_s,
                     fps=info.fps, frames=info.frames, poster=poster(data))


def render(draw_frame: Callable[[int, int], Image.Image], *, width: int, height: int, fps: int,
           duration_s: float) -> bytes:
    """An MP4 of `duration_s` seconds whose frame i (of n) is `draw_frame(i, n)`."""
    count = max(1, round(fps * duration_s))
    return encode((draw_frame(i, count) for i in range(count)), width=width, height=height, fps=fps)
