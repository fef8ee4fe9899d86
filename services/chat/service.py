"""Chat: validate → cache → charge → provider chain with failover → store → cache fill → reply.

`model` names a catalogue entry (services/platform/catalog.py `ChatModel`): it gives each
provider its model id, the role it needs (premium models: SUBSCRIBER, else 403)
and its price; the cache key and the reply carry the resolved model.

Rate limits run earlier (middleware). A failure after the charge refunds it.
Identical concurrent requests share one provider call (in-process single
flight, plus a short Redis lock so other processes wait for the cache fill).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from services.chat.cache import ChatCache, cache_key
from services.chat.content import ParsedContent, part_error
from services.chat.images import ChatImages
from services.chat.metering import meter_answer
from services.chat.models import (
    ChatInput,
    ChatReply,
    Prepared,
    title_of,
)
from services.chat.options import NO_OPTIONS, ChatOptions
from services.chat.ports import (
    ChatCompletion,
    ChatImage,
    ChatMessage,
    ChatProvider,
    ConversationRepository,
    MessageRole,
    ProviderError,
    ProviderTimeout,
    StoredMessage,
)
from services.chat.routing import check_honoured, honours
from services.chat.structured import completion_problem
from services.chat.tree import Tree
from services.credits.model import Receipt
from services.credits.ports import NO_METER, Charge, Credits, Meter, charged_call
from services.platform import key_limits
from services.platform.catalog import ChatModel
from services.platform.clock import utcnow
from services.platform.coalesce import SingleFlight, wait_or_lead
from services.platform.errors import (
    FeatureDisabled,
    Forbidden,
    InsufficientCredits,
    NotFound,
    ValidationFailed,
)
from services.platform.failover import Failover
from services.platform.ids import new_id
from services.platform.live_settings import LiveSettingsService
from services.platform.ports.breaker import CircuitBreaker
from services.platform.ports.metrics import NO_METRICS, Metrics
from services.platform.principal import Role
from services.platform.rate_limit import settle_owed

log = structlog.stdlib.get_logger("muse.chat")

DEFAULT_MODELS = (ChatModel(name="default"),)  # every provider with its own configured model


@dataclass(slots=True)
class _Produced:
    answer: ChatCompletion | None
    cached: bool
    receipt: Receipt | None
    refused: InsufficientCredits | None = None  # the leader could not pay; followers try themselves


class ChatService:
    """The chat use cases (complete, stream); the stored conversations are services/chat/conversations.py."""

    def __init__(self, *, providers: list[ChatProvider], conversations: ConversationRepository,
                 cache: ChatCache, breaker: CircuitBreaker, credits: Credits, price: Callable[[], int],
                 live_settings: LiveSettingsService | None = None, timeout_s: float = 30.0,
                 max_chars: int = 32000, history_limit: int = 100,
                 models: Callable[[], Sequence[ChatModel]] = lambda: DEFAULT_MODELS,
                 metrics: Metrics = NO_METRICS, images: ChatImages | None = None,
                 image_price: Callable[[], int] = lambda: 1, meter: Meter = NO_METER) -> None:
        self.providers = providers
        self.meter = meter  # provider usage and cost in the usage rollup (contract §19)
        self.metrics = metrics
        self.conversations = conversations
        self.cache = cache
        self.breaker = breaker
        self.credits = credits
        self.price = price
        self.models = models
        self.live_settings = live_settings
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self.history_limit = history_limit
        self.images = images  # images in messages (None: text only; services/chat/images.py)
        self.image_price = image_price
        self.flights: SingleFlight[_Produced] = SingleFlight()
        self.failover: Failover[ChatProvider] = Failover(
            label="chat", providers=self.chain, breaker=breaker, failure_types=(ProviderError,),
            is_timeout=lambda exc: isinstance(exc, ProviderTimeout), per_call_s=timeout_s)

    # --- preparation -------------------------------------------------------------------
    async def prepare(self, inp: ChatInput) -> Prepared:
        """Validate, load history, compute the cache key."""
        model = self.resolve_model(inp.model, role=inp.role)
        total = sum(len(m.content) for m in inp.messages)
        if total > self.max_chars:
            msg = f"total content is {total} characters; at most {self.max_chars}"
            raise ValidationFailed(errors=[{"loc": ["body", "messages"], "msg": msg}])
        await self._check_enabled()
        conversation, history, parent = None, [], ""
        if inp.conversation_id:
            conversation = await self.conversations.get(inp.conversation_id, owner_id=inp.user_id)
            if conversation is None:
                raise NotFound("No such conversation.")
            tree = Tree(await self.conversations.messages(conversation.id))
            parent = tree.anchor(regenerate=inp.regenerate, parent_id=inp.parent_id,
                                 active_leaf_id=conversation.active_leaf_id) or ""
            history = [ChatMessage(role=m.role, content=m.content,
                                   images=await self._stored_images(m, inp.user_id), tool_calls=m.tool_calls,
                                   tool_call_id=m.tool_call_id, name=m.name)
                       for m in tree.path(parent or None)[-self.history_limit:]]
        elif inp.parent_id is not None or inp.regenerate is not None:
            field = "parent_id" if inp.parent_id is not None else "regenerate"
            raise ValidationFailed(errors=[{"loc": ["body", field], "msg": "needs conversation_id"}])
        check_honoured(self.providers, inp.options)
        context = history + list(inp.messages)
        key = cache_key(model=self._model_key(model), messages=context, temperature=inp.temperature,
                        max_tokens=inp.max_tokens, options=inp.options)
        return Prepared(inp=inp, conversation=conversation, context=context, key=key,
                        message_id=new_id("msg"), model=model, parent_id=parent)

    async def read_messages(self, turns: Sequence[tuple[MessageRole, ParsedContent]], *, user_id: str,
                            openai: bool) -> list[ChatMessage]:
        """A request's turns as chat messages, their image parts fetched and checked
        (services/chat/images.py)."""
        if self.images is None:
            for _role, parsed in turns:
                if parsed.images:
                    raise part_error(parsed.images[0].where, "images are not enabled here.", openai=openai)
            return [ChatMessage(role=role, content=parsed.text) for role, parsed in turns]
        return await self.images.messages(turns, user_id=user_id, openai=openai)

    async def _stored_images(self, message: StoredMessage, user_id: str) -> tuple[ChatImage, ...]:
        if not message.images or self.images is None:
            return ()
        return await self.images.load(message.images, user_id=user_id)

    def resolve_model(self, name: str, *, role: Role) -> ChatModel:
        """The catalogue entry called `name`: 422 when unknown, 403 when `role` is below its `min_role`."""
        models = list(self.models())
        model = next((m for m in models if m.name == name), None)
        if model is None:
            known = ", ".join(repr(m.name) for m in models)
            raise ValidationFailed(f"Unknown model {name!r}; available: {known}.",
                                   errors=[{"loc": ["body", "model"], "msg": f"unknown model {name!r}"}])
        key_limits.require_model(name)
        if role < Role.parse(model.min_role):
            raise Forbidden(f"The {name!r} model needs the {model.min_role} role (a paid subscription); "
                            "nothing was charged.")
        return model

    @staticmethod
    def model_for(model: ChatModel | None, provider: ChatProvider) -> str:
        """The model id `provider` is asked for (its configured one unless the entry names another)."""
        return (model.provider_models.get(provider.name) if model else None) or provider.model

    def _model_key(self, model: ChatModel) -> str:
        return model.name + ":" + ",".join(f"{p.name}/{self.model_for(model, p)}" for p in self.providers)

    async def _check_enabled(self) -> None:
        if self.live_settings is not None and not (await self.live_settings.current()).chat_enabled:
            raise FeatureDisabled("Chat is disabled for now.")
        if not await self.chain():
            raise FeatureDisabled("Every chat provider is switched off for now.")

    async def offered_models(self, role: Role) -> list[str]:
        """The chat models `role` can use now: none while chat or every chat provider is switched off."""
        live = await self.live_settings.current() if self.live_settings is not None else None
        if (live is not None and not live.chat_enabled) or not await self.chain():
            return []
        return [m.name for m in self.models() if role >= Role.parse(m.min_role)]

    async def chain(self) -> list[ChatProvider]:
        """Providers in order, without those switched off in live settings."""
        if self.live_settings is None:
            return list(self.providers)
        return await self.live_settings.enabled(self.providers)

    # --- complete ----------------------------------------------------------------------
    async def complete(self, inp: ChatInput) -> ChatReply:
        """Answer one request (JSON mode)."""
        prep = await self.prepare(inp)
        # One round trip (issue 28): the request's rate-limit token, the cached answer, else the
        # coalescing lock. A regeneration is a new answer: it neither reads the cache nor waits.
        hit, held = (None, False) if inp.regenerate else await self.cache.claim(prep.key, ttl_ms=self.lock_ms)
        self.metrics.cache_request("hit" if hit is not None else "miss")
        if inp.regenerate:
            produced, shared = await self._fresh(prep), False
        elif hit is not None:  # the common fast path: no flight, no lock
            produced, shared = _Produced(hit, cached=True, receipt=None), False
        else:
            produced, shared = await self.flights.run(prep.key.digest,
                                                      lambda: self._produce(prep, first=held))
            if shared and held:  # the lock was released between our look and our joining its flight
                await self.cache.store.release(prep.key.lock)
        if produced.refused is not None:
            if not shared:
                raise produced.refused
            produced = await self._produce(prep)
            if produced.refused is not None:
                raise produced.refused
        elif shared:
            produced = _Produced(produced.answer, cached=True, receipt=None)
        assert produced.answer is not None
        charged = produced.receipt.amount if produced.receipt is not None else 0
        try:
            conversation_id = await self.store(prep, produced.answer, cached=produced.cached, charged=charged)
        except BaseException:  # the client gets an error, not the answer: nothing was served
            if produced.receipt is not None:
                await self.credits.refund_or_owe(produced.receipt, reason="store_failed",
                                                 request_id=inp.request_id)
            raise
        return ChatReply(id=prep.message_id, conversation_id=conversation_id, content=produced.answer.content,
                         provider=produced.answer.provider, model=produced.answer.model,
                         cached=produced.cached, credits_charged=charged, request_id=inp.request_id,
                         usage=produced.answer.usage, finish_reason=produced.answer.finish_reason,
                         tool_calls=produced.answer.tool_calls, logprobs=produced.answer.logprobs)

    async def _fresh(self, prep: Prepared) -> _Produced:
        """A charged provider answer that neither reads nor waits for the cache (regenerate)."""
        await settle_owed()  # the rate-limit token before the charge
        inp = prep.inp
        try:  # the provider call alongside the charge when the balance covers it well (issue 28)
            answer, receipt = await charged_call(self.credits, self.charge_of(prep), lambda: self.call_chain(
                prep.context, temperature=inp.temperature, request_id=inp.request_id, model=prep.model,
                max_tokens=inp.max_tokens, options=inp.options), refund_reason="provider_failed",
                request_id=inp.request_id)
        except InsufficientCredits as exc:
            return _Produced(None, cached=False, receipt=None, refused=exc)
        await meter_answer(self.meter, prep, answer, answer.usage)
        return _Produced(answer, cached=False, receipt=receipt)

    async def _produce(self, prep: Prepared, *, first: bool | None = None) -> _Produced:
        """`first`: the caller's own claim just missed the cache, holding the lock or not; None: look here."""
        if first is None:
            hit = await self.cache.get(prep.key)
            if hit is not None:
                return _Produced(hit, cached=True, receipt=None)
        looked = [first] if first is not None else []

        async def lead() -> _Produced:
            return await self._fresh(prep)  # the leader asks the provider (charged), as a regenerate does

        async def check() -> _Produced | None:
            found = await self.cache.get(prep.key)
            return _Produced(found, cached=True, receipt=None) if found else None

        async def claim() -> tuple[_Produced | None, bool]:
            if looked:
                return None, looked.pop()
            found, held = await self.cache.claim(prep.key, ttl_ms=self.lock_ms)
            return (_Produced(found, cached=True, receipt=None) if found else None), held

        async def finish(produced: _Produced, held: bool) -> None:
            if produced.answer is not None:  # the answer and the lock's release: one round trip
                await self.cache.put(prep.key, produced.answer, unlock=held)
            elif held:
                await self.cache.store.release(prep.key.lock)

        produced, _waited = await wait_or_lead(self.cache.store, prep.key.lock, lock_ttl_ms=self.lock_ms,
                                               check=check, lead=lead, claim=claim, finish=finish)
        return produced

    @property
    def lock_ms(self) -> int:
        """How long a coalescing lock may be held: the whole chain timing out, plus slack."""
        return int((self.timeout_s * max(1, len(self.providers)) + 5) * 1000)

    async def call_chain(self, messages: list[ChatMessage], *, temperature: float | None,
                         request_id: str | None, model: ChatModel | None = None,
                         max_tokens: int | None = None, options: ChatOptions = NO_OPTIONS) -> ChatCompletion:
        """First whole answer of the chain (services/platform/failover.py): breaker-open providers and
        those that cannot honour `options` skipped; an answer off its requested JSON form is a failure."""
        async def complete(provider: ChatProvider, seconds: float) -> ChatCompletion:
            answer = await provider.complete(messages, temperature=temperature, timeout=seconds,
                                             request_id=request_id, model=self.model_for(model, provider),
                                             max_tokens=max_tokens, options=options)
            problem = completion_problem(answer.content, options, has_tool_calls=bool(answer.tool_calls))
            if problem is not None:
                raise ProviderError(provider.name, f"incomplete answer: {problem}")
            return answer

        return (await self.failover.run(complete, only=honours(options)))[1]

    # --- credits and storage -----------------------------------------------------------
    def charge_of(self, prep: Prepared) -> Charge:
        """The model's price for this request, plus `prices.chat_image` per image the request sends
        (an image kept in a conversation is not charged again on later turns); ledger ref = message id."""
        price = prep.model.cost(self.price()) if prep.model else self.price()
        price += self.image_price() * sum(len(m.images) for m in prep.inp.messages)
        return Charge(prep.inp.user_id, price, plan=prep.inp.plan, kind="chat", ref=prep.message_id,
                      model=prep.model.name if prep.model else None)

    async def refund(self, receipt: Receipt, prep: Prepared, *, reason: str) -> None:
        """Give the charge back (once; owed and retried while the store does not answer)."""
        await self.credits.refund_or_owe(receipt, reason=reason, request_id=prep.inp.request_id)

    async def ensure_conversation(self, prep: Prepared) -> str | None:
        """Create the conversation up front (streaming announces its id in `meta`)."""
        await settle_owed()  # the rate-limit token before anything is stored
        if prep.inp.store and prep.conversation is None:
            prep.conversation = await self.conversations.create(
                owner_id=prep.inp.user_id, title=title_of(prep.inp.messages))
            prep.created = True
        return prep.conversation.id if prep.conversation else None

    async def store(self, prep: Prepared, answer: ChatCompletion, *, cached: bool,
                    charged: int, status: str = "complete") -> str | None:
        """Append the new turns and the answer; create the conversation when needed.

        `status` is "complete", or "stopped" for a streamed answer the client stopped reading."""
        inp = prep.inp
        await settle_owed()
        if not inp.store:
            return prep.conversation.id if prep.conversation else None
        conversation_id = prep.conversation.id if prep.conversation else new_id("cnv")
        now = utcnow()
        turns: list[StoredMessage] = []
        parent = prep.parent_id  # each turn continues from the one before it
        for m in inp.messages:
            turns.append(StoredMessage(id=new_id("msg"), conversation_id=conversation_id, role=m.role,
                                       content=m.content, created_at=now, request_id=inp.request_id,
                                       images=await self._keep(m.images, inp.user_id), parent_id=parent,
                                       tool_calls=m.tool_calls, tool_call_id=m.tool_call_id, name=m.name))
            parent = turns[-1].id
        turns.append(StoredMessage(
            id=prep.message_id, conversation_id=conversation_id, role="assistant", content=answer.content,
            created_at=now, provider=answer.provider, model=answer.model, cached=cached,
            credits_charged=charged, request_id=inp.request_id, status=status, parent_id=parent,
            tool_calls=answer.tool_calls))
        if prep.conversation is None:
            await self.conversations.create(owner_id=inp.user_id, title=title_of(inp.messages),
                                            conversation_id=conversation_id, messages=turns)
        else:
            await self.conversations.append(conversation_id, turns)
        return conversation_id

    async def _keep(self, images: tuple[ChatImage, ...], user_id: str) -> list[dict[str, Any]]:
        if not images or self.images is None:
            return []
        return await self.images.keep(images, user_id=user_id)
