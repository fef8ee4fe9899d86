"""Several choices for one request (`n` 2–4, contract §18): each choice is charged.

The choices are asked for at once, each through the chat failover (a provider that cannot honour
the request's options is skipped, an incomplete answer fails over), under one charge of `n` times
the request's price that is refunded whole when any choice cannot be had. Such answers are not
cached: each is meant to differ, and a cache miss is never a wrong answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from services.chat.metering import meter_answer
from services.chat.models import ChatInput, ChatReply
from services.chat.ports import ChatCompletion
from services.chat.service import ChatService
from services.credits.ports import charged
from services.platform.rate_limit import settle_owed

MAX_CHOICES = 4


async def complete_choices(chat: ChatService, inp: ChatInput, n: int
                           ) -> tuple[ChatReply, list[ChatCompletion]]:
    """(the reply of the first choice, all `n` answers); charged `n` times the price."""
    prep = await chat.prepare(inp)
    await settle_owed()  # the rate-limit token before the charge (no cache look carries it here)
    one = chat.charge_of(prep)
    async with charged(chat.credits, replace(one, amount=one.amount * n), refund_reason="provider_failed",
                       request_id=inp.request_id) as receipt:
        tasks = [asyncio.ensure_future(chat.call_chain(
            prep.context, temperature=inp.temperature, request_id=inp.request_id, model=prep.model,
            max_tokens=inp.max_tokens, options=inp.options)) for _ in range(n)]
        try:  # the first failure is raised as it is (a 502/504 problem) and refunds the whole charge
            answers = list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:  # one choice failing cancels the others
                task.cancel()
    for index, answer in enumerate(answers):
        each = replace(prep, message_id=f"{prep.message_id}:{index}")
        await meter_answer(chat.meter, each, answer, answer.usage)
    first = answers[0]
    reply = ChatReply(
        id=prep.message_id, conversation_id=None, content=first.content, provider=first.provider,
        model=first.model, cached=False, credits_charged=receipt.amount, request_id=inp.request_id,
        usage=first.usage, finish_reason=first.finish_reason, tool_calls=first.tool_calls)
    return reply, answers
