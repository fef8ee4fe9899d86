"""Replicate (Flux Schnell) through the official `replicate` SDK, async; `ReplicatePredictions`
is the prediction lifecycle shared with the video model (`providers/replicate_videos.py`)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import replicate
import structlog
from replicate.exceptions import ModelError, ReplicateError
from replicate.helpers import FileOutput

from services.media.ports.images import ImageFile, ImageRequest, ImageResult
from services.platform.errors import UpstreamError, UpstreamTimeout

log = structlog.stdlib.get_logger("muse.providers")

CANCEL_TIMEOUT_S = 5.0


class ReplicatePredictions:
    """One Replicate model through the SDK: run a prediction to its end and download its outputs."""

    name = "replicate"

    def __init__(
        self,
        api_token: str,
        *,
        model: str,
        base_url: str | None = None,
        poll_interval: float = 0.5,
        timeout_s: float = 60.0,
    ) -> None:
        self.model = model
        self._client = replicate.Client(
            api_token=api_token, base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=5.0)
        )
        self._client.poll_interval = poll_interval
        self._timeout_s = timeout_s

    async def _predict(self, body: dict[str, Any]) -> list[bytes]:
        """Create a prediction, poll it to the end and download every output (UpstreamError on failure)."""
        owner, _, name = self.model.partition("/")
        try:
            prediction = await self._client.models.predictions.async_create(model=(owner, name), input=body)
            try:
                await prediction.async_wait()
            except BaseException:  # timed out, or the worker is stopping: stop Replicate's billing
                await self._abandon(prediction)
                raise
            if prediction.status != "succeeded":
                raise ModelError(prediction)
            outputs = prediction.output if isinstance(prediction.output, list) else [prediction.output]
            files = [await self._download(item) for item in outputs if item]
        except ModelError as exc:
            raise UpstreamError(
                f"replicate: prediction {exc.prediction.status}: {exc.prediction.error}"
            ) from exc
        except ReplicateError as exc:
            raise UpstreamError(f"replicate: HTTP {exc.status}: {exc.detail}") from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("replicate: timed out") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise UpstreamError(f"replicate: {type(exc).__name__}") from exc
        if not files:
            raise UpstreamError("replicate: no output")
        return files

    async def _abandon(self, prediction: Any) -> None:
        """Cancel a prediction nobody will wait for (best effort, a few seconds at most)."""
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_S):
                await prediction.async_cancel()
            log.info("replicate_prediction_cancelled", prediction=prediction.id)
        except Exception as exc:
            log.warning("replicate_cancel_failed", prediction=getattr(prediction, "id", None),
                        error=type(exc).__name__)

    async def _download(self, item: object) -> bytes:
        if isinstance(item, str) and item.startswith(("data:", "https:")):
            item = FileOutput(item, self._client)
        if isinstance(item, FileOutput):
            return bytes(await item.aread())
        async with httpx.AsyncClient(timeout=self._timeout_s) as http:
            response = await http.get(str(item))
            response.raise_for_status()
            return response.content

    async def aclose(self) -> None:
        """Nothing pooled between calls beyond the SDK's own client."""
        await asyncio.sleep(0)


class ReplicateImageProvider(ReplicatePredictions):
    """`black-forest-labs/flux-schnell` by default: aspect ratio, num_outputs, seed, output format."""

    supports_edit = False

    async def generate(self, request: ImageRequest) -> ImageResult:
        """Create a prediction, poll it to the end and download every output."""
        seed = request.seed if request.seed is not None else random.randrange(2**31)
        body = {
            "prompt": request.prompt,
            "aspect_ratio": request.aspect_ratio,
            "num_outputs": request.num_outputs,
            "seed": seed,
            "output_format": request.output_format,
        }
        try:
            files = [ImageFile.from_bytes(data) for data in await self._predict(body)]
        except ValueError as exc:
            raise UpstreamError(f"replicate: {type(exc).__name__}") from exc
        return ImageResult(self.name, self.model, files, seed)

    async def edit(self, request: ImageRequest) -> ImageResult:
        """Flux Schnell has no edit mode."""
        raise UpstreamError("replicate: edits are not supported by this model")
