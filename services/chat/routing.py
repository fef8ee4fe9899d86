"""Which providers may answer a request (contract §18): those that honour every option it sends.

A provider names the first option it cannot honour (`ChatProvider.unsupported`); the failover then
skips it, so e.g. `logit_bias` goes to OpenAI even when Gemini comes first. When no configured
provider can honour the request, it is refused by name before anything is charged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.chat.options import NO_OPTIONS, ChatOptions
from services.chat.ports import ChatProvider
from services.platform.errors import ValidationFailed


def check_honoured(providers: Sequence[ChatProvider], options: ChatOptions) -> None:
    """422 (400 under /v1) naming the option when no provider of `providers` can honour every option."""
    missing = [p.unsupported(options) for p in providers]
    if providers and all(missing):
        field = missing[0] or ""
        msg = f"`{field}` is not supported by any provider of this model; nothing was charged"
        raise ValidationFailed(f"{msg[0].upper()}{msg[1:]}.", errors=[{"loc": ["body", field], "msg": msg}])


def honours(options: ChatOptions) -> Callable[[ChatProvider], bool]:
    """The failover's filter: only the providers that honour every option of the request."""
    if options == NO_OPTIONS:
        return lambda _provider: True
    return lambda provider: provider.unsupported(options) is None
