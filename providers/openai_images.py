"""OpenAI images (`gpt-image-1` generate and edit) through the official `openai` SDK."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from services.media.ports.images import ImageFile, ImageRequest, ImageResult
from services.platform.errors import UpstreamError, UpstreamTimeout

if TYPE_CHECKING:  # the SDK itself is imported with the client (~0.4 s of CPU, ~20 MB; issue 12)
    import openai

# gpt-image-1 offers three sizes; pick the one closest in shape to the aspect ratio.
_SIZES = {"square": "1024x1024", "landscape": "1536x1024", "portrait": "1024x1536"}


def size_for(aspect_ratio: str) -> str:
    """The gpt-image-1 size whose orientation matches `aspect_ratio`."""
    w, _, h = aspect_ratio.partition(":")
    ratio = int(w) / int(h)
    return _SIZES["square" if ratio == 1 else "landscape" if ratio > 1 else "portrait"]


class OpenAIImageProvider:
    """Generate and edit with `gpt-image-1`; images come back as base64 (`b64_json`)."""

    name = "openai"
    supports_edit = True
    lazy_sdk = "openai"  # imported on first use, or ahead of it in a thread once serving (app/startup.py)

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 1,
    ) -> None:
        self.model = model
        self._api_key, self._base_url, self._timeout_s, self._max_retries = (
            api_key, base_url, timeout_s, max_retries)
        self._sdk_client: openai.AsyncOpenAI | None = None

    @property
    def _client(self) -> openai.AsyncOpenAI:
        """Made on first use, so start-up does not load the SDK."""
        if self._sdk_client is None:
            import openai

            self._sdk_client = openai.AsyncOpenAI(api_key=self._api_key, base_url=self._base_url,
                                                  timeout=self._timeout_s, max_retries=self._max_retries)
        return self._sdk_client

    async def generate(self, request: ImageRequest) -> ImageResult:
        """`images.generate`: one request for every output."""
        prompt = _prompt(request)
        response = await self._call(
            self._client.images.generate(
                model=self.model,
                prompt=prompt,
                n=request.num_outputs,
                size=size_for(request.aspect_ratio),
                output_format=request.output_format,
            )
        )
        return await self._result(response)

    async def edit(self, request: ImageRequest) -> ImageResult:
        """`images.edit` of the source picture (with the optional mask)."""
        assert request.source is not None
        extra = {"mask": ("mask.png", request.mask, "image/png")} if request.mask else {}
        response = await self._call(
            self._client.images.edit(  # type: ignore[call-overload]
                model=self.model,
                image=("image.png", request.source, "image/png"),
                prompt=_prompt(request),
                n=request.num_outputs,
                output_format=request.output_format,
                **extra,
            )
        )
        return await self._result(response)

    async def _call(self, call):  # type: ignore[no-untyped-def]
        import openai

        try:
            return await call
        except openai.APITimeoutError as exc:
            raise UpstreamTimeout("openai: timed out") from exc
        except openai.APIStatusError as exc:
            raise UpstreamError(f"openai: HTTP {exc.status_code}") from exc
        except openai.APIError as exc:
            raise UpstreamError(f"openai: {type(exc).__name__}") from exc

    async def _result(self, response) -> ImageResult:  # type: ignore[no-untyped-def]
        import httpx

        files = []
        try:
            for item in response.data or []:
                if item.b64_json:
                    files.append(ImageFile.from_bytes(base64.b64decode(item.b64_json)))
                elif item.url:
                    async with httpx.AsyncClient(timeout=60) as http:
                        got = await http.get(item.url)
                        got.raise_for_status()
                        files.append(ImageFile.from_bytes(got.content))
        except (ValueError, httpx.HTTPError) as exc:
            raise UpstreamError("openai: unreadable image output") from exc
        if not files:
            raise UpstreamError("openai: no output")
        return ImageResult(self.name, self.model, files, None)


def _prompt(request: ImageRequest) -> str:
    if request.negative_prompt:
        return f"{request.prompt}\n\nAvoid: {request.negative_prompt}"
    return request.prompt
