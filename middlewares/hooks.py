"""Muse's request hooks, run by ONE Quart before-request hook and ONE after-request hook.

Quart runs each registered hook through `ensure_async` and walks the blueprints' hook lists
for every request; with six hooks on each side that bookkeeping cost more than several of
the hooks themselves (issue 12). The middlewares register here instead, with Quart's own
meaning kept: before-hooks run in registration order and the first that returns a value
answers the request; after-hooks run in reverse registration order, each taking and
returning the response; an exception stops the chain and goes to the error handlers
(after which the after-hooks run on the error response, as Quart does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from quart import Quart, Response

Before = Callable[[], Awaitable[Any]]
After = Callable[[Response], Awaitable[Response]]
KEY = "muse_hooks"


class Hooks:
    """The ordered before/after hooks of one app."""

    def __init__(self) -> None:
        self._before: list[Before] = []
        self._after: list[After] = []  # in the order they run (reverse of registration)

    def before(self, fn: Before) -> Before:
        """Register a before-request hook (runs after those registered earlier)."""
        self._before.append(fn)
        return fn

    def after(self, fn: After) -> After:
        """Register an after-request hook (runs before those registered earlier, as in Quart)."""
        self._after.insert(0, fn)
        return fn


def hooks_of(app: Quart) -> Hooks:
    """The app's hooks, installed into Quart (as one hook on each side) on first use."""
    hooks = app.extensions.get(KEY)
    if hooks is not None:
        return hooks
    hooks = app.extensions[KEY] = Hooks()
    before, after = hooks._before, hooks._after

    # Plain functions (not bound methods), so Quart's `ensure_async` is decided once for each.
    async def run_before_hooks() -> Any:
        for fn in before:
            result = await fn()
            if result is not None:
                return result
        return None

    async def run_after_hooks(response: Response) -> Response:
        for fn in after:
            response = await fn(response)
        return response

    app.before_request(run_before_hooks)
    app.after_request(run_after_hooks)
    return hooks
