"""`hooks_of(app)` runs the middlewares' hooks with Quart's own meaning, as one hook per side."""

from __future__ import annotations

from quart import Quart, Response

from middlewares.hooks import hooks_of


def make_app(calls: list[str]) -> Quart:
    app = Quart("hooks")
    hooks = hooks_of(app)

    @app.get("/")
    async def index() -> str:
        calls.append("view")
        return "ok"

    @app.errorhandler(KeyError)
    async def on_key_error(error: KeyError) -> tuple[str, int]:
        return "refused", 418

    @hooks.before
    async def first() -> Response | None:
        calls.append("first")
        return Response("short", status=203) if calls.count("first") == 2 else None

    @hooks.before
    async def second() -> None:
        calls.append("second")
        if calls.count("second") == 2:
            raise KeyError("refused")

    @hooks.after
    async def outer(response: Response) -> Response:
        calls.append("outer")
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "outer"
        return response

    @hooks.after
    async def inner(response: Response) -> Response:
        calls.append("inner")
        response.headers["X-Order"] = "inner,"
        return response

    return app


async def test_hooks_keep_quarts_order_short_circuit_and_error_handling():
    calls: list[str] = []
    app = make_app(calls)
    assert hooks_of(app) is app.extensions["muse_hooks"]  # installed once
    assert len(app.before_request_funcs[None]) == 1 and len(app.after_request_funcs[None]) == 1
    client = app.test_client()

    response = await client.get("/")  # before-hooks in order, the view, after-hooks in reverse
    assert response.status_code == 200 and response.headers["X-Order"] == "inner,outer"
    assert calls == ["first", "second", "view", "inner", "outer"]

    calls.clear()
    calls.append("first")  # the next `first` returns a response: nothing after it runs but the after-hooks
    response = await client.get("/")
    assert response.status_code == 203 and await response.get_data(as_text=True) == "short"
    assert calls == ["first", "first", "inner", "outer"]

    calls[:] = ["first", "first", "second"]  # the next `second` raises: its handler answers
    response = await client.get("/")
    assert response.status_code == 418 and response.headers["X-Order"] == "inner,outer"
    assert calls[3:] == ["first", "second", "inner", "outer"]
