"""What a chat answer used, recorded as provider usage and cost (contract §19): the tokens the
provider reported, else the estimate (the local provider, a stream the client stopped)."""

from __future__ import annotations

from services.chat.models import Prepared
from services.chat.openai_compat import estimate_usage
from services.chat.ports import ChatCompletion
from services.credits.ports import Attribution, Meter, ProviderUsage


async def meter_answer(meter: Meter, prep: Prepared, answer: ChatCompletion,
                       usage: tuple[int, int] | None) -> None:
    """Count one provider answer of the request `prep` (once per message id)."""
    if usage is None:
        calls = "".join(c.name + c.arguments for c in answer.tool_calls)
        estimate = estimate_usage([(m.role, m.content) for m in prep.context], answer.content + calls)
        usage = (estimate.prompt_tokens, estimate.completion_tokens)
    who = Attribution(user_id=prep.inp.user_id, kind="chat", plan=prep.inp.plan, ref=prep.message_id,
                      model=prep.model.name if prep.model else None)
    await meter.record(who, ProviderUsage(answer.provider, answer.model, tokens_in=usage[0],
                                          tokens_out=usage[1]))
