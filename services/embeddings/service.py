"""Embeddings: resolve the model → check the input → cache → charge → the model's one provider → refund
on failure → cache fill (contract §12 `POST /v1/embeddings`).

One provider per model name and no failover across providers: vectors of different providers live
in different spaces, so an answer from another provider would be silently wrong. A model whose
provider is switched off (live settings) answers 503 `feature_disabled` and is not offered.

Price: `embedding_per_1k` credits per 1 000 input tokens, rounded up (at least 1 credit). Tokens are
counted before the provider is called (Muse's estimate, about four characters per token, as chat
usage estimates), so the price is known, and charged, before anything is spent. The answer's
`usage` gives the provider's own count when it reports one (OpenAI), else the same estimate.
Identical concurrent requests share one provider call and one charge (in-process single flight,
plus a Redis lock across processes), as chat does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.credits.ports import Charge, Credits, charged
from services.embeddings.cache import (
    CachedEmbeddings,
    EmbeddingCache,
    EmbeddingKey,
    Vector,
    embedding_key,
    float32,
)
from services.embeddings.ports import EmbeddingProvider, EmbeddingProviderError, EmbeddingTimeout
from services.platform import key_limits
from services.platform.coalesce import SingleFlight, wait_or_lead
from services.platform.embedding_models import EmbeddingLimits, EmbeddingModel
from services.platform.errors import (
    BadRequest,
    FeatureDisabled,
    Forbidden,
    InsufficientCredits,
    UpstreamError,
    UpstreamTimeout,
)
from services.platform.ids import new_id
from services.platform.live_settings import LiveSettingsService
from services.platform.ports.metrics import NO_METRICS, Metrics, ProviderOutcome
from services.platform.principal import Role

MAX_INPUTS = 2048  # OpenAI's limit of inputs per request
MAX_REQUEST_TOKENS = 300_000  # OpenAI's limit of tokens summed over a request's inputs
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text`: ceil(characters / 4), at least 1 (inputs are never empty)."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


@dataclass(frozen=True, slots=True)
class EmbeddingInput:
    """One `POST /v1/embeddings` request, checked for shape by the controller."""

    user_id: str
    plan: str | None
    role: Role
    model: str
    texts: list[str]
    dimensions: int | None = None
    user: str | None = None
    request_id: str | None = None
    single: bool = False  # `input` was one string (an error names `input`, not `input.0`)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A catalogue model bound to its provider."""

    entry: EmbeddingModel
    provider: EmbeddingProvider
    model_id: str
    limits: EmbeddingLimits


@dataclass(frozen=True, slots=True)
class EmbeddingReply:
    vectors: list[Vector]  # float32 per input, in order
    prompt_tokens: int
    provider: str
    cached: bool
    credits_charged: int


@dataclass(slots=True)
class _Produced:
    answer: CachedEmbeddings | None
    charged: int
    refused: InsufficientCredits | None = None


class EmbeddingService:
    """The embeddings use case."""

    def __init__(self, *, providers: Sequence[EmbeddingProvider],
                 models: Callable[[], Sequence[EmbeddingModel]],
                 cache: EmbeddingCache, credits: Credits, price_per_1k: Callable[[], int],
                 live_settings: LiveSettingsService | None = None, timeout_s: float = 30.0,
                 metrics: Metrics = NO_METRICS) -> None:
        self.providers = {p.name: p for p in providers}
        self.default_provider = providers[0].name if providers else None
        self.models, self.cache, self.credits = models, cache, credits
        self.price_per_1k, self.live_settings = price_per_1k, live_settings
        self.timeout_s, self.metrics = timeout_s, metrics
        self.flights: SingleFlight[_Produced] = SingleFlight()

    def resolve(self, name: str) -> Resolved | None:
        """The catalogue model called `name` with its configured provider; None when there is no such
        model or its provider is not configured here."""
        entry = next((m for m in self.models() if m.name == name), None)
        provider = self.providers.get(entry.provider or self.default_provider or "") if entry else None
        if entry is None or provider is None:
            return None
        model_id = entry.model or provider.model
        return Resolved(entry=entry, provider=provider, model_id=model_id, limits=entry.limits(model_id))

    async def offered(self, role: Role) -> list[str]:
        """The embedding models `role` can use now: provider configured and switched on, role enough."""
        live = await self.live_settings.current() if self.live_settings is not None else None
        names = []
        for entry in self.models():
            resolved = self.resolve(entry.name)
            if resolved is None or role < Role.parse(entry.min_role):
                continue
            if live is None or live.provider_enabled(resolved.provider.name):
                names.append(entry.name)
        return names

    def price(self, tokens: int) -> int:
        """Credits for `tokens` input tokens: `embedding_per_1k` per 1 000, rounded up."""
        return max(1, math.ceil(tokens * self.price_per_1k() / 1000))

    async def embed(self, inp: EmbeddingInput, resolved: Resolved) -> EmbeddingReply:
        """The vectors of `inp.texts` (cached, or charged and asked of the model's provider)."""
        key_limits.require_model(inp.model)
        if inp.role < Role.parse(resolved.entry.min_role):
            raise Forbidden(f"The {inp.model!r} model needs the {resolved.entry.min_role} role (a paid "
                            "subscription); nothing was charged.")
        tokens = self._check(inp, resolved.limits)
        if self.live_settings is not None and not (await self.live_settings.current()).provider_enabled(
                resolved.provider.name):
            raise FeatureDisabled(f"Embeddings with {inp.model!r} are switched off for now (its provider "
                                  f"{resolved.provider.name} is off; vectors never come from another one).")
        key = embedding_key(model=inp.model, provider=resolved.provider.name,
                            provider_model=resolved.model_id, texts=inp.texts, dimensions=inp.dimensions)
        hit = await self.cache.get(key)
        if hit is not None:
            return self._reply(hit, cached=True, charged=0)
        produced, shared = await self.flights.run(
            key.digest, lambda: self._produce(inp, resolved, key, tokens))
        if produced.refused is not None and shared:  # the leader could not pay; this caller may
            produced = await self._produce(inp, resolved, key, tokens)
        if produced.refused is not None:
            raise produced.refused
        assert produced.answer is not None
        if shared:
            return self._reply(produced.answer, cached=True, charged=0)
        return self._reply(produced.answer, cached=produced.charged == 0, charged=produced.charged)

    @staticmethod
    def _reply(answer: CachedEmbeddings, *, cached: bool, charged: int) -> EmbeddingReply:
        return EmbeddingReply(vectors=list(answer.vectors), prompt_tokens=answer.prompt_tokens,
                              provider=answer.provider, cached=cached, credits_charged=charged)

    def _check(self, inp: EmbeddingInput, limits: EmbeddingLimits) -> int:
        """The request's estimated tokens; 400 naming the field that exceeds the model's limits."""
        if inp.dimensions is not None and not limits.min_dimensions <= inp.dimensions <= limits.dimensions:
            span = (f"{limits.dimensions}" if limits.min_dimensions == limits.dimensions
                    else f"{limits.min_dimensions} to {limits.dimensions}")
            raise BadRequest(f"The model {inp.model!r} makes vectors of {span} dimensions; "
                             f"{inp.dimensions} is not supported.", param="dimensions")
        if len(inp.texts) > MAX_INPUTS:
            raise BadRequest(f"At most {MAX_INPUTS} inputs per request.", param="input")
        total = 0
        for index, text in enumerate(inp.texts):
            where = "input" if inp.single else f"input.{index}"
            if not text.strip():
                raise BadRequest("An input must not be empty or only whitespace.", param=where)
            count = estimate_tokens(text)
            if count > limits.max_input_tokens:
                raise BadRequest(f"This input is about {count} tokens; {inp.model!r} takes at most "
                                 f"{limits.max_input_tokens} per input.", param=where)
            total += count
        if total > MAX_REQUEST_TOKENS:
            raise BadRequest(f"The inputs are about {total} tokens; at most {MAX_REQUEST_TOKENS} per "
                             "request.", param="input")
        return total

    def _lock_ms(self) -> int:
        return int((self.timeout_s + 5) * 1000)

    async def _produce(self, inp: EmbeddingInput, resolved: Resolved, key: EmbeddingKey,
                       tokens: int) -> _Produced:
        async def check() -> _Produced | None:
            found = await self.cache.get(key)
            return _Produced(found, charged=0) if found else None

        async def claim() -> tuple[_Produced | None, bool]:
            found, held = await self.cache.claim(key, ttl_ms=self._lock_ms())
            return (_Produced(found, charged=0) if found else None), held

        async def finish(produced: _Produced, held: bool) -> None:
            if produced.answer is not None:
                await self.cache.put(key, produced.answer, unlock=held)
            elif held:
                await self.cache.store.release(key.lock)

        produced, _waited = await wait_or_lead(
            self.cache.store, key.lock, lock_ttl_ms=self._lock_ms(), check=check,
            lead=lambda: self._fresh(inp, resolved, tokens), claim=claim, finish=finish)
        return produced

    async def _fresh(self, inp: EmbeddingInput, resolved: Resolved, tokens: int) -> _Produced:
        """Charge, ask the provider, refund when it fails."""
        charge = Charge(inp.user_id, self.price(tokens), plan=inp.plan, kind="embedding",
                        ref=new_id("emb"), model=inp.model, units={"tokens_in": tokens})
        try:
            async with charged(self.credits, charge, refund_reason="provider_failed",
                               request_id=inp.request_id) as receipt:
                answer = await self._call(inp, resolved, tokens)
        except InsufficientCredits as exc:
            return _Produced(None, charged=0, refused=exc)
        return _Produced(answer, charged=receipt.amount)

    async def _call(self, inp: EmbeddingInput, resolved: Resolved, tokens: int) -> CachedEmbeddings:
        provider = resolved.provider
        started = time.perf_counter()

        def record(outcome: ProviderOutcome) -> None:
            self.metrics.provider_call("embedding", provider.name, outcome, time.perf_counter() - started)

        try:
            embedded = await provider.embed(inp.texts, model=resolved.model_id, dimensions=inp.dimensions,
                                            user=inp.user, timeout=self.timeout_s, request_id=inp.request_id)
        except EmbeddingTimeout as exc:
            record("timeout")
            raise UpstreamTimeout(f"{provider.name} did not answer in time; nothing was charged.") from exc
        except EmbeddingProviderError as exc:
            record("error")
            if exc.status == 400:  # the provider refused this input: the client's to fix, not a retry
                raise BadRequest(f"{provider.name} refused the input: {exc.message}; nothing was charged.",
                                 param="input") from exc
            raise UpstreamError(f"{provider.name} could not embed the input; nothing was charged.") from exc
        expected = inp.dimensions or resolved.limits.dimensions
        if len(embedded.vectors) != len(inp.texts) or any(
                not v or (inp.dimensions is not None and len(v) != expected) for v in embedded.vectors):
            record("error")
            raise UpstreamError(f"{provider.name} answered an unexpected number or size of vectors; "
                                "nothing was charged.")
        record("success")
        return CachedEmbeddings(vectors=[float32(v) for v in embedded.vectors],
                                prompt_tokens=embedded.prompt_tokens or tokens, provider=provider.name)
