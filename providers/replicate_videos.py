"""A Replicate video model (`REPLICATE_VIDEO_MODEL`) through the official `replicate` SDK.

Input as the Kling family takes it: `prompt`, `duration` (seconds), `aspect_ratio`, and for
image-to-video `start_image` (a data URI of the source picture). The output MP4 is
downloaded, checked by decoding it, and given a poster (its first frame).
"""

from __future__ import annotations

import asyncio
import base64
import random

from providers.mp4 import video_file
from providers.replicate_images import ReplicatePredictions
from services.media.ports.images import ImageFile
from services.media.ports.videos import VideoRequest, VideoResult
from services.platform.errors import UpstreamError


class ReplicateVideoProvider(ReplicatePredictions):
    """Text-to-video and image-to-video on one Replicate model."""

    supports_image = True

    async def generate(self, request: VideoRequest) -> VideoResult:
        """Run the prediction and download the MP4."""
        seed = request.seed if request.seed is not None else random.randrange(2**31)
        body: dict[str, object] = {"prompt": request.prompt, "duration": request.duration_s,
                                   "aspect_ratio": request.aspect_ratio, "seed": seed}
        if request.source is not None:
            try:
                fmt = ImageFile.from_bytes(request.source).format or "png"
            except ValueError as exc:
                raise UpstreamError("replicate: the source image cannot be read") from exc
            body["start_image"] = f"data:image/{fmt};base64,{base64.b64encode(request.source).decode()}"
        outputs = await self._predict(body)
        try:
            files = [await asyncio.to_thread(video_file, data) for data in outputs[:1]]
        except ValueError as exc:
            raise UpstreamError("replicate: the output is not a playable video") from exc
        return VideoResult(self.name, self.model, files, seed)
