"""Pure rules of the OpenAI-compatible API (contract §12): token estimates and image sizes.

Token counts are the provider's when it reported them (whole answers from
Gemini and OpenAI; a cached answer keeps them). Otherwise (streams, the local
provider, a provider that reports none) they are estimated: about four
characters per token (OpenAI's own rule of thumb for English), at least one
token for any non-empty text, plus the chat format's framing of
`TOKENS_PER_MESSAGE` per message and `REPLY_PRIMING` for the answer (the
figures of OpenAI's cookbook for gpt-4o-class models).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.media.ports.images import nearest_ratio

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING = 3

_SIZE = re.compile(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*")


@dataclass(frozen=True, slots=True)
class Usage:
    """OpenAI's `usage` object."""

    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        """The JSON shape."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens}


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text`: ceil(characters / 4), 0 for empty text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimate_usage(prompt: Sequence[tuple[str, str]], completion: str) -> Usage:
    """Usage of a chat answer: `prompt` is (role, content) pairs, `completion` the answer text."""
    framing = TOKENS_PER_MESSAGE * len(prompt) + REPLY_PRIMING
    prompt_tokens = framing + sum(estimate_tokens(content) for _role, content in prompt)
    return Usage(prompt_tokens=prompt_tokens, completion_tokens=estimate_tokens(completion))


def usage_of(reported: tuple[int, int] | None, prompt: Sequence[tuple[str, str]], completion: str) -> Usage:
    """The provider's counts when it reported them, else the estimate."""
    if reported is not None:
        return Usage(prompt_tokens=reported[0], completion_tokens=reported[1])
    return estimate_usage(prompt, completion)


def aspect_ratio_for_size(size: str | None) -> str | None:
    """The supported aspect ratio nearest to `WIDTHxHEIGHT`; "1:1" for None/"auto"; None when malformed."""
    if size is None or size.strip().lower() in ("", "auto"):
        return "1:1"
    match = _SIZE.fullmatch(size)
    if match is None:
        return None
    width, height = int(match.group(1)), int(match.group(2))
    if width <= 0 or height <= 0:
        return None
    return nearest_ratio(width, height)
