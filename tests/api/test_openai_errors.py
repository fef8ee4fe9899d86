"""Every error under /v1 is OpenAI's envelope, whichever layer raised it (contract §12)."""

from __future__ import annotations

from app import create_app
from tests.conftest import make_settings
from tests.fixtures.admin import set_live
from tests.fixtures.identity import auth_headers, make_token

CHAT = "/v1/chat/completions"
HELLO = {"model": "default", "messages": [{"role": "user", "content": "Hi"}]}


async def envelope(response, status: int) -> dict:
    """The error body, checked for OpenAI's shape and Muse's request id."""
    assert response.status_code == status, await response.get_data(as_text=True)
    assert response.content_type == "application/json"
    body = await response.get_json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"message", "type", "param", "code"} and body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body["error"]


async def test_missing_or_bad_credentials_are_invalid_api_key(client):
    error = await envelope(await client.get("/v1/models"), 401)
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    response = await client.post(CHAT, json=HELLO, headers={"Authorization": "Bearer mk_live_nope"})
    assert (await envelope(response, 401))["code"] == "invalid_api_key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_api_v1_errors_stay_problem_json(client):
    response = await client.get("/api/v1/me")
    assert response.status_code == 401 and response.content_type == "application/problem+json"
    assert (await response.get_json())["code"] == "unauthorized"


async def test_schema_validation_is_invalid_request_error_with_param(app, client):
    headers = await auth_headers(app, "user_v1_validation")
    error = await envelope(await client.post(CHAT, json={"model": "default"}, headers=headers), 400)
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_request_error"
    assert error["param"] == "messages"
    bad_temperature = {**HELLO, "temperature": 5}
    error = await envelope(await client.post(CHAT, json=bad_temperature, headers=headers), 400)
    assert error["param"] == "temperature"
    error = await envelope(await client.post(CHAT, data="{not json", headers={
        **headers, "Content-Type": "application/json"}), 400)  # OpenAI's status: 400, never 422 under /v1
    assert error["type"] == "invalid_request_error" and "not valid JSON" in error["message"]


async def test_unsupported_requests_are_400_naming_the_param(app, client):
    headers = await auth_headers(app, "user_v1_bad")
    error = await envelope(await client.post(CHAT, json={**HELLO, "n": 5}, headers=headers), 400)  # 1-4
    assert error["param"] == "n" and error["code"] == "invalid_request_error"
    tool = {"model": "default", "messages": [{"role": "tool", "content": "42"}]}
    # tool calling is not offered: the documented roles exclude `tool`, so it is a validation error
    assert (await envelope(await client.post(CHAT, json=tool, headers=headers), 400))["param"].startswith(
        "messages.0")
    no_user = {"model": "default", "messages": [{"role": "system", "content": "Be brief."},
                                                {"role": "assistant", "content": ""}]}
    error = await envelope(await client.post(CHAT, json=no_user, headers=headers), 400)
    assert error["param"] == "messages"
    image_part = {"model": "default", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]}
    error = await envelope(await client.post(CHAT, json=image_part, headers=headers), 400)  # host "x" unknown
    assert error["param"] == "messages.0.content.0" and "constrained" not in error["message"]
    bad_size = {"prompt": "a cat", "size": "huge"}
    error = await envelope(await client.post("/v1/images/generations", json=bad_size, headers=headers), 400)
    assert error["param"] == "size"


async def test_unknown_models_and_routes_are_404(app, client):
    headers = await auth_headers(app, "user_v1_404")
    error = await envelope(await client.post(CHAT, json={**HELLO, "model": "gpt-4"}, headers=headers), 404)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    generate = {"prompt": "a cat", "model": "dall-e-3"}
    error = await envelope(await client.post("/v1/images/generations", json=generate, headers=headers), 404)
    assert error["code"] == "model_not_found"
    assert (await envelope(await client.get("/v1/nothing-here", headers=headers), 404))["code"] == "not_found"


async def test_premium_models_need_a_subscription(app, client):
    headers = await auth_headers(app, "user_v1_free")
    error = await envelope(await client.post(CHAT, json={**HELLO, "model": "pro"}, headers=headers), 403)
    assert error["type"] == "permission_error" and error["code"] == "forbidden"


async def test_maintenance_and_feature_switches_answer_503(app, client):
    headers = await auth_headers(app, "user_v1_switches")
    await set_live(app, chat_enabled=False, images_enabled=False)
    response = await client.post(CHAT, json=HELLO, headers=headers)
    error = await envelope(response, 503)
    assert error["code"] == "feature_disabled" and error["type"] == "server_error"
    # switched off is not transient: the SDKs must not retry it (OpenAI's header), nor wait for it
    assert response.headers["x-should-retry"] == "false" and "Retry-After" not in response.headers
    generate = await client.post("/v1/images/generations", json={"prompt": "a cat"}, headers=headers)
    assert (await envelope(generate, 503))["code"] == "feature_disabled"
    assert generate.headers["x-should-retry"] == "false"
    assert (await client.get("/v1/models", headers=headers)).status_code == 200  # reading stays open
    await set_live(app, maintenance_mode=True)
    response = await client.get("/v1/models", headers=headers)
    assert (await envelope(response, 503))["code"] == "maintenance" and response.headers["Retry-After"]
    assert "x-should-retry" not in response.headers  # transient: retried after Retry-After
    api = await client.get("/api/v1/me", headers=headers)  # /api/v1 keeps its own answer
    assert api.status_code == 503 and "x-should-retry" not in api.headers


async def test_rate_limited_requests_are_429_rate_limit_exceeded_with_retry_after(servers, tmp_path):
    settings = make_settings(servers, tmp_path, rate_limits_enabled=True,
                             rate_limit_plans={"free": (2, 0.0), "anonymous": (2, 0.0)})
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        await app.extensions["container"].identity.users.ensure_clerk_user("user_v1_rl")
        headers = {"Authorization": f"Bearer {make_token('user_v1_rl')}"}
        statuses = [(await client.get("/v1/models", headers=headers)).status_code for _ in range(2)]
        response = await client.get("/v1/models", headers=headers)
        error = await envelope(response, 429)
        assert statuses == [200, 200]
        assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
        assert int(response.headers["Retry-After"]) >= 1 and response.headers["RateLimit-Remaining"] == "0"
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def test_the_openapi_document_describes_the_v1_operations(client):
    spec = await (await client.get("/openapi.json")).get_json()
    paths = spec["paths"]
    assert set(paths) >= {"/v1/models", "/v1/chat/completions", "/v1/images/generations", "/v1/images/edits"}
    chat = paths["/v1/chat/completions"]["post"]
    assert "application/json" in chat["requestBody"]["content"]
    assert {"200", "401", "402", "429"} <= set(chat["responses"])
    assert "multipart/form-data" in paths["/v1/images/edits"]["post"]["requestBody"]["content"]
