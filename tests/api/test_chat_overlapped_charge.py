"""The charge overlapped with the provider call (issue 28): never an answer uncharged, never a charge
kept for an answer not given. Real MongoDB-wire server and Redis, the providers' wire fakes.

A process starts the provider call alongside the guarded charge when its last view of the account
covers 5× the price (services/credits/ports.py `charged_call`), else charges first. The account's
true state may be behind that view (another process spent it): the charge's guard decides.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from contextlib import asynccontextmanager

from pymongo.errors import ServerSelectionTimeoutError

from app import create_app
from repositories.conversations import BeanieConversationRepository
from tests.fixtures.identity import auth_headers


def body(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}], "store": False}


async def spendable(app, user) -> int:
    return (await app.extensions["container"].credits.service.summary(user.id, plan=user.plan))["spendable"]


async def kept_charges(app, user_id: str) -> dict[str, int]:
    """The ledger's charges not refunded: their ref (the answer's message id) → amount."""
    ops, cursor = await app.extensions["container"].credits.service.ledger(user_id, limit=500)
    assert cursor is None
    refunded = {op.meta.get("charge_id") for op in ops if op.kind == "refund"}
    return {op.ref: -op.delta for op in ops if op.kind == "charge" and op.id not in refunded}


async def warmed_up(app, clerk_id: str):
    """(container, user, auth headers, client, the warm-up answer): one chat answered and charged,
    so this process holds the account as that charge left it (its view covers 5× the price)."""
    c = app.extensions["container"]
    user = await c.identity.users.ensure_clerk_user(clerk_id)
    auth = await auth_headers(app, clerk_id)
    client = app.test_client()
    warm = await client.post("/api/v1/chat", json=body("warm-up"), headers=auth)
    assert warm.status_code == 200, await warm.get_data()
    return c, user, auth, client, warm


@asynccontextmanager
async def spent_elsewhere(app, user):
    """Another process spends the whole balance: this one's last view still covers 5× the price.
    (Both stay open to the end: the documents are bound to the last client opened.)"""
    other = create_app(app.extensions["container"].settings.model_copy())
    async with other.test_app():
        rest = await spendable(other, user)
        await other.extensions["container"].credits.service.charge(
            user.id, rest, plan=user.plan, kind="chat", ref="elsewhere", request_id=None)
        yield


async def test_a_charge_refused_while_the_call_runs_cancels_it_and_answers_402(
        chat_app_factory, fake_gemini, caplog):
    async with chat_app_factory(signup_credits=40) as app:
        c, user, auth, client, warm = await warmed_up(app, "ovl_stale")
        assert c.credits.service.covers(user.id, 1, plan=user.plan, times=5)
        async with spent_elsewhere(app, user):
            assert c.credits.service.covers(user.id, 1, plan=user.plan, times=5)
            fake_gemini.delay_s = 0.5  # the call is still running when the guarded charge fails
            with caplog.at_level(logging.INFO):
                refused = await client.post("/api/v1/chat", json=body("after it ran out"), headers=auth)
            assert refused.status_code == 402, await refused.get_data()
            assert (await refused.get_json())["code"] == "insufficient_credits"
            assert any("charge_overlapped_refused" in str(r.msg) for r in caplog.records)  # it did overlap
            assert await spendable(app, user) == 0
            kept = await kept_charges(app, user.id)
            assert set(kept) == {(await warm.get_json())["id"], "elsewhere"}
            # the next request sees the account as it is: charged first, refused, no provider call
            fake_gemini.delay_s = 0.0
            before = fake_gemini.count()
            again = await client.post("/api/v1/chat", json=body("still nothing"), headers=auth)
            assert again.status_code == 402 and fake_gemini.count() == before
            audit = await c.credits.service.audit(user.id)
            assert audit["balance"] == audit["ledger_balance"], audit
            await c.credits.service.settle()


async def test_a_burst_that_runs_the_balance_out_with_failing_calls_keeps_charges_and_answers_equal(
        chat_app_factory, fake_gemini, fake_openai):
    async with chat_app_factory(signup_credits=30, breaker_failure_threshold=10_000) as app:
        c = app.extensions["container"]
        user = await c.identity.users.ensure_clerk_user("ovl_burst")
        auth = await auth_headers(app, "ovl_burst")
        client = app.test_client()
        assert (await client.post("/api/v1/chat", json=body("warm-up"), headers=auth)).status_code == 200
        start = await spendable(app, user)
        assert start >= 10 and c.credits.service.covers(user.id, 1, plan=user.plan, times=5)
        # Gemini always fails (each request fails over to OpenAI); OpenAI fails one call in three:
        # 2 × start + 30 requests answer more than `start` times, so the balance runs out mid-burst.
        fake_gemini.mode = "500"
        fake_openai.script = deque(["ok", "ok", "500"] * 100)
        fake_gemini.delay_s = fake_openai.delay_s = 0.02
        answers = await asyncio.gather(*(client.post("/api/v1/chat", json=body(f"burst {i}"), headers=auth)
                                         for i in range(2 * start + 30)))
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {200, 402, 502}, statuses
        assert 200 in statuses and 402 in statuses and 502 in statuses, statuses
        given = {}
        for answer in answers:
            if answer.status_code == 200:
                data = await answer.get_json()
                given[data["id"]] = data["credits_charged"]
        kept = await kept_charges(app, user.id)
        warm_up = {ref for ref in kept if ref not in given}
        assert len(warm_up) == 1  # every other kept charge is an answer given, and each answer is charged
        assert {ref: amount for ref, amount in kept.items() if ref not in warm_up} == given
        assert await spendable(app, user) == start - sum(given.values())
        audit = await c.credits.service.audit(user.id)
        assert audit["balance"] == audit["ledger_balance"], audit


class UnreachableConversations(BeanieConversationRepository):
    """The real conversation repository behind a store that stopped answering for conversation writes."""

    async def create(self, **kwargs):
        raise ServerSelectionTimeoutError("the store did not answer the conversation write")

    async def append(self, conversation_id, messages):
        raise ServerSelectionTimeoutError("the store did not answer the conversation write")


async def test_an_answer_that_could_not_be_stored_is_a_503_that_keeps_no_charge(chat_app):
    c = chat_app.extensions["container"]
    user = await c.identity.users.ensure_clerk_user("ovl_unstored")
    auth = await auth_headers(chat_app, "ovl_unstored")
    client = chat_app.test_client()
    before = await spendable(chat_app, user)
    c.chat.service.conversations = UnreachableConversations()
    failed = await client.post("/api/v1/chat", headers=auth,
                               json={"messages": [{"role": "user", "content": "keep this one"}]})
    assert failed.status_code == 503, await failed.get_data()
    assert (await failed.get_json())["code"] == "service_unavailable"
    assert await spendable(chat_app, user) == before  # the client got no answer: nothing is kept
    assert await kept_charges(chat_app, user.id) == {}
    ops, _ = await c.credits.service.ledger(user.id, limit=10)
    assert [op.reason for op in ops if op.kind == "refund"] == ["store_failed"]


class ChargesAfterTheFirstDelta:
    """The process's real credits service, whose charges start only once the provider has been
    streaming for a while: the overlapped stream has its first delta before its charge answers."""

    def __init__(self, credits, fake) -> None:
        self._credits, self._fake = credits, fake

    def __getattr__(self, name: str):
        return getattr(self._credits, name)

    async def charge(self, *args, **kwargs):
        for _ in range(500):  # the fake answers on its own thread: looked at, not awaited
            if self._fake.count("streamGenerateContent"):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # the first chunk has reached the process by now
        return await self._credits.charge(*args, **kwargs)


async def test_a_stream_whose_overlapped_charge_is_refused_sends_nothing_and_closes_the_provider_stream(
        chat_app_factory, fake_gemini, caplog):
    async with chat_app_factory(signup_credits=40) as app:
        c, user, auth, client, warm = await warmed_up(app, "ovl_stream")
        async with spent_elsewhere(app, user):
            assert c.credits.service.covers(user.id, 1, plan=user.plan, times=5)  # stale: it overlaps
            real = c.chat.service.credits
            c.chat.service.credits = ChargesAfterTheFirstDelta(real, fake_gemini)
            fake_gemini.reset()
            fake_gemini.reply = "one two three four five six seven eight"
            fake_gemini.chunk_delay_s = 0.2  # the provider is still streaming when the charge is refused
            with caplog.at_level(logging.INFO):
                refused = await client.post("/api/v1/chat", headers=auth,
                                            json={**body("a stream after it ran out"), "stream": True})
            assert refused.status_code == 402, await refused.get_data()  # a problem, not an event stream
            assert (await refused.get_json())["code"] == "insufficient_credits"
            assert any("charge_overlapped_refused" in str(r.msg) for r in caplog.records)
            for _ in range(200):  # the opened provider stream was closed, not left to run to its end
                if fake_gemini.streams_left:
                    break
                await asyncio.sleep(0.01)
            assert fake_gemini.streams_left == 1
            c.chat.service.credits = real
            assert set(await kept_charges(app, user.id)) == {(await warm.get_json())["id"], "elsewhere"}
            audit = await c.credits.service.audit(user.id)
            assert audit["balance"] == audit["ledger_balance"], audit


async def test_a_burst_of_streams_that_runs_the_balance_out_keeps_one_charge_per_answer(
        chat_app_factory, fake_gemini):
    async with chat_app_factory(signup_credits=40) as app:
        c = app.extensions["container"]
        user = await c.identity.users.ensure_clerk_user("ovl_streams")
        auth = await auth_headers(app, "ovl_streams")
        client = app.test_client()

        async def stream(text: str):
            return await client.post("/api/v1/chat", headers=auth, json={**body(text), "stream": True})

        first = await stream("first")  # charged before the call: this process had not seen the account
        assert first.status_code == 200 and c.credits.service.covers(user.id, 1, plan=user.plan, times=5)
        start = await spendable(app, user)
        fake_gemini.delay_s = 0.05
        # overlapped while this process's view covers 5× the price, then charged first
        answers = [first, *await asyncio.gather(*(stream(f"stream {i}") for i in range(start + 20)))]
        statuses = [a.status_code for a in answers]
        assert set(statuses) == {200, 402}, statuses
        given = {}
        for answer in answers:
            if answer.status_code == 200:
                text = (await answer.get_data()).decode()
                assert "event: done" in text, text
                done = json.loads(text.split("event: done\ndata: ")[1].split("\n")[0])
                given[done["id"]] = done["credits_charged"]
        assert await kept_charges(app, user.id) == given  # every answer charged once, nothing else kept
        first_id = next(iter(given))
        assert await spendable(app, user) == start - (sum(given.values()) - given[first_id])
        audit = await c.credits.service.audit(user.id)
        assert audit["balance"] == audit["ledger_balance"], audit
