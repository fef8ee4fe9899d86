"""Request and answer models of `POST /v1/embeddings` (contract §12); they feed /openapi.json."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from controllers.schemas.base import NONBLANK, RequestBody
from services.embeddings.service import MAX_INPUTS
from services.platform.embedding_models import MAX_DIMENSIONS

MAX_INPUT_CHARS = 32768  # 8 192 tokens of about 4 characters: OpenAI's per-input limit
Text = Annotated[str, Field(min_length=1, max_length=MAX_INPUT_CHARS, pattern=NONBLANK)]


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):  # JSON true/false is no size (pydantic would read 1/0)
        raise ValueError("Input should be a valid integer")
    return value


def _is_tokens(value: Any) -> bool:
    """A token array (`[15339, 1917]`) or a list of them, as OpenAI also takes."""
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    return (isinstance(first, int) and not isinstance(first, bool)) or (
        isinstance(first, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in first))


def _check_text(text: Any, where: str) -> None:
    if not isinstance(text, str):
        raise ValueError(f"{where} must be a string")
    if not text.strip():
        raise ValueError(f"{where} must not be empty or only whitespace")
    if len(text) > MAX_INPUT_CHARS:
        raise ValueError(f"{where} has {len(text)} characters; at most {MAX_INPUT_CHARS}")


Dimensions = Annotated[int, Field(ge=1, le=MAX_DIMENSIONS), BeforeValidator(_not_a_boolean)]


class EmbeddingsIn(RequestBody):
    """OpenAI's embeddings request: every field honoured (README: /v1/embeddings fields)."""

    model: str = Field(min_length=1, max_length=200, description=(
        "A catalogue embedding model (GET /v1/models, capability `embeddings`), e.g. `embed-default`."))
    input: Text | Annotated[list[Text], Field(min_length=1, max_length=MAX_INPUTS)] = Field(description=(
        "A text, or a list of at most 2048 texts (one vector each, in order). Token arrays are refused "
        "by name: send the text. A model may take fewer tokens per input (gemini-embedding-001: 2048)."))
    dimensions: Dimensions | None = Field(default=None, description=(
        "The vectors' size, within the model's range (text-embedding-3-small 1–1536, "
        "gemini-embedding-001 128–3072); default the model's native size."))
    encoding_format: Literal["float", "base64"] | None = Field(default="float", description=(
        "`float` (JSON numbers) or `base64` (little-endian float32 bytes, as OpenAI encodes them)."))
    user: str | None = Field(default=None, max_length=256, description=(
        "The end user, passed to OpenAI for its abuse monitoring (Gemini has no such field); not part "
        "of the cache key."))

    @field_validator("input", mode="before")
    @classmethod
    def _texts_only(cls, value: Any) -> Any:
        """Refuse token arrays by name, and say which item of a list is wrong."""
        if _is_tokens(value):
            raise ValueError("token arrays are not supported: send the input as text (a string or a list "
                             "of strings)")
        if isinstance(value, list):
            if not value:
                raise ValueError("send at least one input")
            if len(value) > MAX_INPUTS:
                raise ValueError(f"{len(value)} inputs; at most {MAX_INPUTS} per request")
            for index, text in enumerate(value):
                _check_text(text, f"input[{index}]")
        else:
            _check_text(value, "input")
        return value


class EmbeddingOut(BaseModel):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str = Field(description="Floats, or base64 with `encoding_format: base64`.")


class EmbeddingUsageOut(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsOut(BaseModel):
    """OpenAI's `list` of `embedding` objects, with `usage`."""

    object: Literal["list"]
    data: list[EmbeddingOut]
    model: str
    usage: EmbeddingUsageOut
