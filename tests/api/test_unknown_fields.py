"""Every field a client sends is honoured or refused by name (house rule; contract §1, §12, §18).

The routes are found by walking the URL map, so a route added later is covered without touching
this file: each one that takes a body is sent a field no endpoint declares and must answer 422
(`/api/v1`, problem+json) or 400 (`/v1`, OpenAI's envelope) naming that field; a route that takes
no body refuses the fields of a JSON object sent to it, except the signed webhooks, which read
their raw bytes.
"""

from __future__ import annotations

import io
import re

import pytest
from pydantic import BaseModel
from quart.datastructures import FileStorage

from controllers.schemas.base import RequestBody
from middlewares.body import JSON, MULTIPART, RAW_ATTR, check_models, declared_body, lax_models
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import picture

UNKNOWN = "muse_no_such_field"
PATH_VALUE = "zz_missing"  # matches every path converter (ids such as `<rid:image_id>` too)


def routes(app) -> list[tuple[str, str, object]]:
    """(method, concrete path, view) of every POST/PUT/PATCH route."""
    found = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]*:)?([^>]+)>", PATH_VALUE, rule.rule)
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            found.append((method, path, app.view_functions[rule.endpoint]))
    return found


async def _named(response, path: str, name: str = UNKNOWN) -> None:
    """The answer refuses `name` by name, in the shape of its API."""
    body = await response.get_json()
    if path.startswith("/v1/"):
        assert response.status_code == 400, (path, body)
        error = body["error"]
        assert error["type"] == "invalid_request_error" and error["param"] == name, (path, body)
        assert name in error["message"], (path, body)
        return
    assert response.status_code == 422, (path, response.status_code, body)
    assert response.content_type == "application/problem+json"
    assert body["code"] == "validation_error", (path, body)
    assert [name] in [error["loc"] for error in body["errors"]], (path, body)
    assert name in body["detail"], (path, body)
    assert any(name in error["msg"] for error in body["errors"] if error["loc"] == [name]), (path, body)


def test_the_walk_finds_the_body_routes_of_both_apis(app):
    paths = {path for _, path, view in routes(app) if declared_body(view)}
    assert {"/api/v1/api-keys", "/api/v1/chat", "/api/v1/images/edits", "/v1/chat/completions",
            "/v1/images/generations", "/v1/images/edits"} <= paths
    raw = {path for _, path, view in routes(app) if getattr(view, RAW_ATTR, False)}
    assert raw == {"/api/v1/webhooks/clerk", "/api/v1/webhooks/paypal", "/api/v1/webhooks/stripe"}


async def test_api_keys_refuse_an_unknown_field_and_create_nothing(app, client):
    headers = await auth_headers(app, "user_unknown_key")
    response = await client.post("/api/v1/api-keys", json={"name": "k", UNKNOWN: ["chat"]}, headers=headers)
    await _named(response, "/api/v1/api-keys")
    assert (await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"] == []
    created = await client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers)
    assert created.status_code == 201  # the same body without the field is taken


async def test_every_json_body_route_refuses_an_unknown_field_by_name(app, client):
    headers = {**await auth_headers(app, "user_unknown_json", role="ADMIN"), "Content-Type": JSON}
    checked = []
    for method, path, view in routes(app):
        if JSON not in declared_body(view):
            continue
        response = await client.open(path, method=method, json={UNKNOWN: 1}, headers=headers)
        await _named(response, path)
        checked.append(path)
    assert len(checked) >= 20, checked


def _png(name: str) -> dict[str, FileStorage]:
    return {name: FileStorage(io.BytesIO(picture()), filename="a.png", content_type="image/png")}


async def test_every_multipart_route_refuses_an_unknown_form_field_and_file(app, client):
    headers = await auth_headers(app, "user_unknown_form", role="ADMIN")
    checked = []
    for method, path, view in routes(app):
        if MULTIPART not in declared_body(view):
            continue
        response = await client.open(path, method=method, form={"prompt": "a cat", UNKNOWN: "1"},
                                     files=_png("image"), headers=headers)
        await _named(response, path)
        files = {**_png("image"), **_png("not_a_file_field")}
        response = await client.open(path, method=method, form={"prompt": "a cat"}, files=files,
                                     headers=headers)
        await _named(response, path, "not_a_file_field")
        checked.append(path)
    assert set(checked) == {"/api/v1/images/edits", "/api/v1/images/describe", "/v1/images/edits"}


async def test_a_route_taking_no_body_refuses_json_fields_but_not_an_empty_object(app, client):
    headers = await auth_headers(app, "user_unknown_none", role="ADMIN")
    checked = []
    for method, path, view in routes(app):
        if declared_body(view) or getattr(view, RAW_ATTR, False):
            continue
        response = await client.open(path, method=method, json={UNKNOWN: True}, headers=headers)
        await _named(response, path)
        empty = await client.open(path, method=method, json={}, headers=headers)
        assert empty.status_code != 422 or UNKNOWN not in await empty.get_data(as_text=True), path
        checked.append(path)
    assert {"/api/v1/auth/logout", "/api/v1/billing/portal"} <= set(checked), checked


async def test_nested_objects_refuse_unknown_fields_too(app, client):
    headers = await auth_headers(app, "user_unknown_nested")
    body = {"messages": [{"role": "user", "content": "Hi", "mood": "happy"}]}
    response = await client.post("/api/v1/chat", json=body, headers=headers)
    assert response.status_code == 422
    problem = await response.get_json()
    assert problem["errors"] == [{"loc": ["messages", 0, "mood"],
                                  "msg": "Unknown field `mood`: this endpoint does not take it."}]
    openai = {"model": "default", "messages": [{"role": "user", "content": "Hi"}],
              "stream_options": {"include_usage": True, "chunk_size": 3}}
    response = await client.post("/v1/chat/completions", json=openai, headers=headers)
    error = (await response.get_json())["error"]
    assert response.status_code == 400 and error["param"] == "stream_options.chunk_size", error


class _Lax(BaseModel):
    x: int


class _Outer(RequestBody):
    inner: list[_Lax] | None = None


def test_a_route_whose_model_would_drop_fields_cannot_be_served(app):
    assert lax_models(_Outer) == ["_Lax"]
    check_models(app)  # every real route passes

    async def view(data):  # pragma: no cover - never called
        return data

    from quart_schema import validate_request

    app.add_url_rule("/api/v1/test-lax", "test_lax", validate_request(_Outer)(view), methods=["POST"])
    with pytest.raises(TypeError, match="_Lax would drop unknown fields"):
        check_models(app)


async def test_a_method_a_route_does_not_take_is_405_whatever_the_body(app, client):
    headers = await auth_headers(app, "user_unknown_method")
    response = await client.put("/api/v1/api-keys", json={"name": "k"}, headers=headers)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
