"""Every route that takes a body answers a broken one with a 4xx problem, never a 500 (issue 19).

The routes are found by walking the URL map (the body declarations of middlewares/body.py), so a
route added later is covered without touching this file.
"""

from __future__ import annotations

import re

import pytest

from middlewares.body import JSON, declared_body
from tests.fixtures.identity import auth_headers

CONTRACT_CODES = {"unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict", "gone",
                  "payload_too_large", "unsupported_media_type", "validation_error",
                  "insufficient_credits", "rate_limited", "maintenance", "feature_disabled",
                  "provider_unavailable", "provider_timeout", "internal_error"}


def body_routes(app) -> list[tuple[str, str, dict]]:
    """(method, concrete path, declared media types) of every POST/PUT/PATCH route taking a body."""
    found = []
    for rule in app.url_map.iter_rules():
        declared = declared_body(app.view_functions.get(rule.endpoint))
        if not declared:
            continue
        path = re.sub(r"<(?:[^:>]*:)?([^>]+)>", "x_missing", rule.rule)
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            found.append((method, path, declared))
    return found


def test_the_walk_finds_the_json_routes(app):
    paths = {path for _, path, _ in body_routes(app)}
    assert {"/api/v1/chat", "/api/v1/images", "/api/v1/api-keys", "/api/v1/admin/settings",
            "/api/v1/images/edits", "/api/v1/images/describe"} <= paths


OPENAI_CODES = {"invalid_request_error": "validation_error"}


async def _problem(response, status: int | None = None) -> dict:
    body = await response.get_json()
    assert response.status_code < 500, (response.status_code, body)
    assert 400 <= response.status_code
    if "error" in body:  # /v1 answers in OpenAI's envelope (contract section 12); read it as a problem
        if status == 422:  # OpenAI's status for an invalid parameter: 400, never 422 under /v1
            status = 400
        assert status is None or response.status_code == status, body
        error = body["error"]
        assert response.headers["Content-Type"].startswith("application/json")
        assert error["type"] == "invalid_request_error" and error["message"]
        assert "Error" not in error["message"] and "Traceback" not in error["message"]
        return {"code": OPENAI_CODES.get(error["code"], error["code"]), "detail": error["message"],
                "errors": [{"loc": [error["param"] or "body"]}]}
    assert status is None or response.status_code == status, body
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert body["code"] in CONTRACT_CODES
    assert body.get("detail")
    assert "Error" not in body["detail"] and "Traceback" not in body["detail"]
    return body


BROKEN_JSON = {
    "not utf-8": b'{"messages": "\xff\xfe\xfa"}',
    "deeply nested": b'{"a":' * 5000,
    "deeply nested, closed": b"[" * 5000 + b"]" * 5000,
    "malformed": b'{"name": ',
    "empty": b"",
    "whitespace": b"  \n",
}


@pytest.mark.parametrize("case", sorted(BROKEN_JSON))
async def test_broken_json_bodies_are_422_with_a_detail(app, client, case):
    headers = await auth_headers(app, "user_bodies", role="ADMIN")
    for method, path, declared in body_routes(app):
        if JSON not in declared:
            continue
        response = await client.open(path, method=method, data=BROKEN_JSON[case],
                                     headers={**headers, "Content-Type": "application/json"})
        body = await _problem(response, 422)
        assert body["code"] == "validation_error" and body["errors"][0]["loc"] == ["body"], (path, body)


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/xml"])
async def test_a_body_of_another_media_type_is_415(app, client, content_type):
    headers = await auth_headers(app, "user_bodies", role="ADMIN")
    if content_type:
        headers["Content-Type"] = content_type
    for method, path, _declared in body_routes(app):
        response = await client.open(path, method=method, data=b'{"name": "x"}', headers=headers)
        body = await _problem(response, 415)
        assert body["code"] == "unsupported_media_type", (path, body)
        assert "Model" not in body["detail"] and "In " not in body["detail"]


@pytest.mark.parametrize("value", [b"[]", b"null", b"42", b'"text"'])
async def test_a_json_value_that_is_not_an_object_names_no_internal_class(app, client, value):
    headers = {**await auth_headers(app, "user_bodies", role="ADMIN"), "Content-Type": "application/json"}
    for method, path, declared in body_routes(app):
        if JSON not in declared:
            continue
        response = await client.open(path, method=method, data=value, headers=headers)
        body = await _problem(response, 422)
        # Only what the problem says about the input: the request ID is random text that can
        # itself look like a class name ("...cyGoIn" once did).
        text = str({key: body.get(key) for key in ("title", "detail", "errors")})
        assert not re.search(r"instance of|[A-Z][a-z]+(In|Fields|Body)\b", text), (path, text)
