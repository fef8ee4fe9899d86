"""Every query parameter a client sends is honoured or refused by name, like a body field (house rule).

The routes are found by walking the URL map, so a route added later is covered without touching this
file: every API route (`/api/…`, `/v1/…`) and method is sent a parameter no endpoint declares and
must answer 422 (`/api/v1`, problem+json, `loc: ["query", name]`) or 400 (`/v1`, OpenAI's envelope
with `param`) naming it, before anything happens. The rule's exceptions are by route kind
(middlewares/query.py): pages, assets, media, health and metrics are not API routes; the provider
return URLs and the signed webhooks are `@foreign_query`.
"""

from __future__ import annotations

import re

import httpx
import openai
import pytest
from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE

from middlewares.query import FOREIGN_ATTR, declared_query, is_api_path, refusals
from tests.api.test_unknown_fields import _named as named_in_body
from tests.fixtures.identity import auth_headers

UNKNOWN = "muse_no_such_param"
PATH_VALUE = "zz_missing"  # matches every path converter
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def api_routes(app) -> list[tuple[str, str, object]]:
    """(method, concrete path, view) of every API route."""
    found = []
    for rule in app.url_map.iter_rules():
        if not is_api_path(rule.rule):
            continue
        path = re.sub(r"<(?:[^:>]*:)?([^>]+)>", PATH_VALUE, rule.rule)
        for method in sorted((rule.methods or set()) & METHODS):
            found.append((method, path, app.view_functions[rule.endpoint]))
    return found


async def _named(response, path: str, name: str = UNKNOWN, *, unknown: bool = True) -> None:
    """The answer refuses the query parameter `name` by name, in the shape of its API."""
    if path.startswith("/v1/"):  # OpenAI's envelope, exactly as for a body field
        await named_in_body(response, path, name)
        return
    body = await response.get_json()
    assert response.status_code == 422, (path, response.status_code, body)
    assert response.content_type == "application/problem+json"
    assert body["code"] == "validation_error", (path, body)
    assert [error["loc"] for error in body["errors"]] == [["query", name]], (path, body)
    assert name in body["errors"][0]["msg"], (path, body)
    if unknown:
        assert body["detail"] == f"Unknown field: {name}.", (path, body)


def test_the_walk_finds_the_routes_of_both_apis_and_the_foreign_ones(app):
    routes = api_routes(app)
    assert {("GET", "/api/v1/images"), ("GET", "/api/v1/me"), ("POST", "/api/v1/chat"),
            ("DELETE", "/api/v1/api-keys/zz_missing"), ("GET", "/v1/models"),
            ("POST", "/v1/chat/completions")} <= {(method, path) for method, path, _ in routes}
    foreign = {path for _, path, view in routes if getattr(view, FOREIGN_ATTR, False)}
    assert foreign == {"/api/v1/payments/paypal/return", "/api/v1/payments/paypal/cancel",
                       "/api/v1/payments/stripe/return", "/api/v1/payments/stripe/cancel",
                       "/api/v1/webhooks/clerk", "/api/v1/webhooks/paypal", "/api/v1/webhooks/stripe"}


async def test_every_api_route_refuses_an_unknown_query_parameter_by_name(app, client):
    headers = await auth_headers(app, "user_unknown_query", role="ADMIN")
    checked = []
    for method, path, view in api_routes(app):
        if getattr(view, FOREIGN_ATTR, False):
            continue
        response = await client.open(path, method=method, query_string={UNKNOWN: "1"}, headers=headers)
        await _named(response, path)
        checked.append((method, path))
    assert len(checked) > 60, checked  # the walk reached the APIs (GETs, bodies, deletes), not a few routes


async def test_a_refused_parameter_changes_nothing(app, client):
    headers = await auth_headers(app, "user_query_nothing")
    refused = await client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers,
                                query_string={"scopes": "chat"})  # a body field sent in the URL
    await _named(refused, "/api/v1/api-keys", "scopes")
    assert (await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"] == []
    created = await client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers)
    assert created.status_code == 201
    key_id = (await created.get_json())["id"]
    kept = await client.delete(f"/api/v1/api-keys/{key_id}", headers=headers, query_string={"force": "1"})
    await _named(kept, "/api/v1/api-keys", "force")
    listed = (await (await client.get("/api/v1/api-keys", headers=headers)).get_json())["items"]
    assert [item["id"] for item in listed] == [key_id] and not listed[0].get("revoked_at")


async def test_a_misspelt_parameter_is_named_not_ignored(app, client):
    headers = await auth_headers(app, "user_query_misspelt")
    misspelt = await client.get("/api/v1/images?limt=5", headers=headers)
    await _named(misspelt, "/api/v1/images", "limt")
    assert (await client.get("/api/v1/images?limit=5", headers=headers)).status_code == 200
    both = await client.get("/api/v1/conversations?limit=5&qq=x&cursr=y", headers=headers)
    body = await both.get_json()
    assert both.status_code == 422 and body["detail"] == "Unknown fields: qq, cursr."
    assert [error["loc"] for error in body["errors"]] == [["query", "qq"], ["query", "cursr"]]


async def test_a_repeated_single_valued_parameter_is_refused_by_name(app, client):
    headers = await auth_headers(app, "user_query_repeated")
    repeated = await client.get("/api/v1/images?limit=5&limit=6", headers=headers)
    await _named(repeated, "/api/v1/images", "limit", unknown=False)
    assert "2 times" in (await repeated.get_json())["errors"][0]["msg"]
    usage = await client.get("/api/v1/usage?group_by=day&group_by=kind", headers=headers)
    await _named(usage, "/api/v1/usage", "group_by", unknown=False)


async def test_an_invalid_value_is_located_in_the_query_too(app, client):
    headers = await auth_headers(app, "user_query_value")
    response = await client.get("/api/v1/images?limit=0", headers=headers)
    body = await response.get_json()
    assert response.status_code == 422 and [e["loc"] for e in body["errors"]] == [["query", "limit"]], body
    aliased = await client.get("/api/v1/usage?from_=2026-01-01", headers=headers)  # the name is `from`
    await _named(aliased, "/api/v1/usage", "from_")


async def test_the_openai_sdk_sees_an_unknown_query_parameter_as_a_bad_request(app):
    token = (await auth_headers(app, "user_query_sdk"))["Authorization"].removeprefix("Bearer ")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://muse.test/v1")
    sdk = openai.AsyncOpenAI(api_key=token, base_url="http://muse.test/v1", http_client=http, max_retries=0)
    async with http:
        assert [model.id async for model in sdk.models.list()]  # the same call without it is served
        with pytest.raises(openai.BadRequestError) as refused:
            await sdk.models.list(extra_query={"foo": "1"})
    assert refused.value.param == "foo" and refused.value.code == "invalid_request_error"
    assert "foo" in refused.value.message


async def test_what_is_not_a_client_s_query_is_not_refused(app, client):
    assert (await client.get("/health?probe=1")).status_code == 200
    assert (await client.get("/health/live?probe=1")).status_code == 200
    page = await client.get("/checkout/success?token=EC-1&PayerID=P1&utm_source=mail")  # the web app's page
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    # PayPal appends its own parameters to the return URL: the buyer still lands (no payment: cancel URL).
    landed = await client.get("/api/v1/payments/paypal/return?token=EC-404&PayerID=P1&ba_token=BA-1")
    assert landed.status_code == 303 and landed.headers["Location"]
    stripe = await client.get("/api/v1/payments/stripe/cancel?session_id=cs_1&extra=1")
    assert stripe.status_code == 303


def test_the_document_declares_every_accepted_parameter(app):
    """Each query model's names are what /openapi.json lists, so a client can know them."""
    for rule in app.url_map.iter_rules():
        model = getattr(app.view_functions[rule.endpoint], QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)
        if model is not None:
            assert declared_query(model), rule.rule


async def test_the_document_lists_the_query_parameters_and_the_refusal(app, client):
    document = await (await client.get("/openapi.json")).get_json()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:>]*:)?([^>]+)>", r"{\1}", rule.rule)
        if path not in document["paths"]:
            continue  # hidden (the API docs themselves, the web app)
        declared = declared_query(getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None))
        for method in (rule.methods or set()) & METHODS:
            operation = document["paths"][path][method.lower()]
            listed = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            assert listed == set(declared), (method, path, listed, declared)
            if is_api_path(path) and not getattr(view, FOREIGN_ATTR, False):
                assert "422" in operation["responses"], (method, path)


async def test_every_query_string_a_client_sends_is_bounded(client):
    """Like bodies' fields: a string parameter has a maxLength (or is one of an enum) in the document."""
    document = await (await client.get("/openapi.json")).get_json()
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter["schema"]
                for option in [schema, *schema.get("anyOf", [])]:
                    if option.get("type") == "string" and "maxLength" not in option and "enum" not in option:
                        unbounded.append(f"{method.upper()} {path} ?{parameter['name']}")
    assert unbounded == []
    long_token = await client.get("/api/v1/payments/paypal/cancel", query_string={"token": "x" * 65})
    assert long_token.status_code == 422  # declared parameters of a foreign route are still validated


def test_refusals_count_repeats_only_of_single_valued_names():
    from werkzeug.datastructures import MultiDict

    declared = {"limit": False, "tag": True}
    assert refusals(MultiDict([("tag", "a"), ("tag", "b"), ("limit", "1")]), declared) is None
    problem = refusals(MultiDict([("limit", "1"), ("limit", "2"), ("x", "1")]), declared)
    assert problem is not None and problem.detail == "Unknown field: x."
    assert [error["loc"] for error in problem.extra["errors"]] == [["query", "x"], ["query", "limit"]]
    assert refusals(MultiDict([("tag[]", "a"), ("tag[]", "b")]), declared) is None


def test_no_view_reads_the_query_string_past_the_mechanism():
    """Query parameters are read through a declared model only, so the check above sees them all."""
    from app.config import ROOT

    readers = [str(path.relative_to(ROOT)) for folder in ("app", "controllers", "middlewares")
               for path in (ROOT / folder).rglob("*.py")
               if re.search(r"\brequest\.(args|values)\b", path.read_text())]
    assert readers == [], readers
