"""Foundation behaviour over HTTP: health, request IDs, problem responses, docs."""

from __future__ import annotations

import re

from quart import Blueprint

from app import create_app
from app.speedups import OrjsonProvider
from middlewares.access import public


async def test_health_reports_every_dependency_ok(client):
    response = await client.get("/health")
    body = await response.get_json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"mongo", "redis", "queue"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0


async def test_liveness_answers_ok(client):
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_unknown_route_is_a_404_problem_with_the_request_id(client):
    response = await client.get("/nope")
    body = await response.get_json()
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["type"] == "http://localhost:8000/problems/not-found"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", body["request_id"])


async def test_wrong_method_is_a_405_problem(client):
    response = await client.delete("/health")
    body = await response.get_json()
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert body["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


async def test_valid_caller_request_id_comes_back_unchanged(client):
    response = await client.get("/health/live", headers={"X-Request-ID": "caller-ID_123"})
    assert response.headers["X-Request-ID"] == "caller-ID_123"


async def test_invalid_caller_request_id_is_replaced(client):
    for bad in ("has space", "x" * 65, "semi;colon", ""):
        response = await client.get("/nope", headers={"X-Request-ID": bad})
        rid = response.headers["X-Request-ID"]
        assert rid != bad
        assert re.fullmatch(r"[A-Za-z0-9_-]{21}", rid)
        assert (await response.get_json())["request_id"] == rid


async def test_unexpected_exception_is_a_500_problem_without_exception_text(settings, logs):
    bp = Blueprint("boom", __name__)

    @bp.get("/boom")
    @public
    async def boom():
        raise RuntimeError("secret database password is hunter2")

    app = create_app(settings)
    app.register_blueprint(bp)
    async with app.test_app():
        response = await app.test_client().get("/boom", headers={"X-Request-ID": "trace-500"})
        body = await response.get_json()
        raw = await response.get_data(as_text=True)
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)

    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert body["code"] == "internal_error"
    assert body["request_id"] == "trace-500"
    assert "hunter2" not in raw and "RuntimeError" not in raw
    errors = [line for line in logs.lines if line.get("event") == "unhandled_exception"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "trace-500"
    assert "RuntimeError: secret database password is hunter2" in errors[0]["exception"]
    assert "Traceback" in errors[0]["exception"]


async def test_access_log_has_one_line_per_request(client, logs):
    await client.get("/health/live", headers={"X-Request-ID": "access-1"})
    lines = [line for line in logs.lines if line.get("event") == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/health/live" and line["status"] == 200
    assert line["request_id"] == "access-1"
    assert line["duration_ms"] >= 0


async def test_openapi_document_is_3_1_and_docs_page_serves(client):
    response = await client.get("/openapi.json")
    spec = await response.get_json()
    assert response.status_code == 200
    assert spec["openapi"].startswith("3.1")
    assert "/health" in spec["paths"]
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "openapi.json" in await docs.get_data(as_text=True)


async def test_answers_are_encoded_by_the_orjson_provider(app, client):
    # Quart-Schema installs its own stdlib provider: the factory's must be set after it
    assert type(app.json) is OrjsonProvider
    response = await client.get("/health/live")
    assert response.status_code == 200 and (await response.get_json()) is not None
