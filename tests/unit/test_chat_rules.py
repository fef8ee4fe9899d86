"""Pure chat rules: titles, single flight, failover ordering (hand-written fakes, no network)."""

from __future__ import annotations

import asyncio

import pytest

from services.chat.models import title_of
from services.chat.ports import ChatCompletion, ChatMessage, ProviderError, ProviderTimeout
from services.chat.service import ChatService
from services.platform.coalesce import SingleFlight


def test_title_comes_from_the_first_user_message_cut_at_a_word():
    msgs = [ChatMessage("system", "be nice"), ChatMessage("user", "  Plan   a\ntrip  "),
            ChatMessage("user", "x")]
    assert title_of(msgs) == "Plan a trip"
    long = title_of([ChatMessage("user", "word " * 40)], limit=20)
    assert long == "word word word word…"
    assert title_of([ChatMessage("system", "only system")]) == "New conversation"


async def test_single_flight_survives_the_leaders_cancellation():
    flights: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def work() -> str:
        await release.wait()
        return "done"

    leader = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    follower = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    leader.cancel()
    release.set()
    assert await follower == ("done", True)


class FakeProvider:
    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name, self.model, self.error, self.calls = name, f"{name}-model", error, 0

    async def complete(self, messages, *, temperature, timeout, request_id, model=None,  # noqa: ASYNC109
                       max_tokens=None, options=None):
        self.calls += 1
        if self.error:
            raise self.error
        return ChatCompletion("hi", self.name, self.model)

    def stream(self, messages, *, temperature, timeout, request_id, model=None,  # noqa: ASYNC109
               max_tokens=None, options=None):
        raise NotImplementedError("not used by these rules")

    def unsupported(self, options):
        return None

    async def describe_image(self, image, *, mime, instruction, timeout, request_id):  # noqa: ASYNC109
        raise NotImplementedError("not used by these rules")

    async def aclose(self):
        pass


class FakeBreaker:
    def __init__(self, open_names: set[str] = frozenset()) -> None:
        self.open, self.failures, self.successes = set(open_names), [], []

    async def allow(self, name):
        return name not in self.open

    async def record_failure(self, name):
        self.failures.append(name)

    async def record_success(self, name):
        self.successes.append(name)

    async def state(self, name):
        return {"state": "open" if name in self.open else "closed", "consecutive_failures": 0,
                "calls": 0, "failures": self.failures.count(name), "open_until": None}


def service(providers, breaker) -> ChatService:
    return ChatService(providers=providers, conversations=None, cache=None, breaker=breaker,  # type: ignore[arg-type]
                       credits=None, price=lambda: 1, timeout_s=1.0)


async def test_chain_fails_over_in_order_and_skips_open_circuits():
    first, second, third = FakeProvider("a", ProviderError("a", "503", status=503)), FakeProvider("b"), \
        FakeProvider("c")
    breaker = FakeBreaker({"b"})
    answer = await service([first, second, third], breaker).call_chain([], temperature=None, request_id=None)
    assert answer.provider == "c"
    assert (first.calls, second.calls, third.calls) == (1, 0, 1)
    assert breaker.failures == ["a"] and breaker.successes == ["c"]


@pytest.mark.parametrize("errors,code", [
    ([ProviderTimeout("a", "slow"), ProviderTimeout("b", "slow")], "provider_timeout"),
    ([ProviderTimeout("a", "slow"), ProviderError("b", "500", status=500)], "provider_unavailable"),
])
async def test_all_failed_is_504_only_when_every_provider_timed_out(errors, code):
    providers = [FakeProvider(e.provider, e) for e in errors]
    with pytest.raises(Exception) as info:
        await service(providers, FakeBreaker()).call_chain([], temperature=None, request_id=None)
    assert info.value.code == code


def test_factory_orders_providers_by_config_and_falls_back_to_local(tmp_path):
    from app.config import Settings
    from app.wiring.adapters import build_chat_providers

    def names(**values) -> list[str]:
        settings = Settings(_env_file=None, app_env="test", var_dir=tmp_path, **values)  # type: ignore[call-arg]
        return [p.name for p in build_chat_providers(settings)]

    assert names() == ["local"]
    assert names(gemini_api_key="g") == ["gemini"]
    assert names(gemini_api_key="g", openai_api_key="o") == ["gemini", "openai"]
    reordered = names(gemini_api_key="g", openai_api_key="o", chat_providers="openai,gemini")
    assert reordered == ["openai", "gemini"]
