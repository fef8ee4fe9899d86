"""The composition root: builds repositories, providers, services and controllers once per process.

One module per domain (platform, credits, identity, chat, media, payments, web, admin), each with
a frozen `*Parts` dataclass and the `wire_*` function that builds it; `adapters` chooses the
adapters a configuration selects; `Container` holds one part per domain. Adding a service is one
constructor call in its domain's `wire_*` and one field of its `*Parts`.
"""

from app.wiring.container import Container
from app.wiring.overrides import Overrides

__all__ = ["Container", "Overrides"]
