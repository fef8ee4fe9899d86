"""`POST /v1/embeddings` without keys and with one provider (contract §12): the offline `local`
provider answers `embed-default` for `make run`, a model whose provider is not configured is neither
listed nor served, identical concurrent requests are charged once, and the catalogue is configurable.
"""

from __future__ import annotations

import asyncio
import math

from app import create_app
from app.wiring import Container
from tests.conftest import make_settings
from tests.fixtures.identity import auth_headers

PATH = "/v1/embeddings"


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def embed(client, headers: dict[str, str], **body):
    response = await client.post(PATH, json=body, headers=headers)
    return response, await response.get_json()


async def test_without_keys_the_local_provider_answers_embed_default_only(app, client):
    headers = await auth_headers(app, "user_emb_local")
    models = {m["id"]: m["capabilities"] for m in (await (await client.get("/v1/models", headers=headers))
                                                    .get_json())["data"]}
    assert models["embed-default"] == ["embeddings"]
    assert "text-embedding-3-small" not in models and "gemini-embedding-001" not in models
    texts = ["the cat sat on the mat", "the cat sits on a mat", "stock market news"]
    response, body = await embed(client, headers, model="embed-default", input=texts)
    assert response.status_code == 200 and response.headers["X-Muse-Provider"] == "local"
    vectors = [d["embedding"] for d in body["data"]]
    assert [len(v) for v in vectors] == [1024] * 3
    assert all(math.isclose(dot(v, v), 1.0, abs_tol=1e-5) for v in vectors)
    assert dot(vectors[0], vectors[1]) > dot(vectors[0], vectors[2])  # related texts are closer
    _, again = await embed(client, headers, model="embed-default", input=texts[0], dimensions=64)
    _, again_too = await embed(client, headers, model="embed-default", input=texts[0], dimensions=64,
                               user="other")
    assert len(again["data"][0]["embedding"]) == 64 and again == again_too  # deterministic
    response, body = await embed(client, headers, model="text-embedding-3-small", input="x")
    assert response.status_code == 404 and body["error"]["code"] == "model_not_found"


async def test_identical_concurrent_requests_are_charged_once(app, client):
    headers = await auth_headers(app, "user_emb_concurrent")
    container: Container = app.extensions["container"]
    user = await container.identity.users.ensure_clerk_user("user_emb_concurrent")
    before = (await container.credits.service.summary(user.id, plan="free"))["spendable"]
    body = {"model": "embed-default", "input": ["same question", "same other question"]}
    answers = await asyncio.gather(*(client.post(PATH, json=body, headers=headers) for _ in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert sorted(int(a.headers["X-Muse-Credits-Charged"]) for a in answers) == [0, 0, 0, 0, 0, 1]
    await container.credits.service.settle()
    assert (await container.credits.service.summary(user.id, plan="free"))["spendable"] == before - 1
    bodies = [await a.get_json() for a in answers]
    assert all(b["data"] == bodies[0]["data"] for b in bodies)


async def test_a_model_is_answered_only_by_its_configured_provider(servers, tmp_path, _gemini_server):
    settings = make_settings(servers, tmp_path, gemini_api_key=_gemini_server.api_key,
                             gemini_base_url=_gemini_server.url, embedding_providers=["openai", "gemini"],
                             embedding_models={"big": {"provider": "openai",
                                                               "model": "text-embedding-3-large"},
                                               "gemini-embedding-001": None,
                                               "mine": {"provider": "gemini", "model": "gemini-embedding-001",
                                                        "min_role": "SUBSCRIBER"}},
                             catalog_json='{"prices": {"chat": 1, "embedding_per_1k": 3}}')
    application = create_app(settings)
    async with application.test_app():
        client = application.test_client()
        headers = await auth_headers(application, "user_emb_config")
        listed = (await (await client.get("/v1/models", headers=headers)).get_json())["data"]
        models = [m["id"] for m in listed if "embeddings" in m["capabilities"]]
        assert models == ["embed-default"]  # OpenAI has no key: no `big`, no 3-small; `mine` needs a role
        response, body = await embed(client, headers, model="embed-default", input="word " * 880)
        assert response.headers["X-Muse-Provider"] == "gemini"  # the first *configured* provider
        # 4 400 characters: 1 100 tokens at 3 credits per 1 000 → 3.3, rounded up
        assert response.headers["X-Muse-Credits-Charged"] == "4" and len(body["data"][0]["embedding"]) == 3072
        response, body = await embed(client, headers, model="big", input="hello")
        assert response.status_code == 404 and body["error"]["param"] == "model"
        response, body = await embed(client, headers, model="mine", input="hello")
        assert response.status_code == 403
        container: Container = application.extensions["container"]
        await container.platform.database.client.drop_database(settings.mongodb_db)


async def test_malformed_input_is_a_named_400_never_a_500(app, client):
    headers = {**await auth_headers(app, "user_emb_malformed"), "Content-Type": "application/json"}
    bodies = [
        (b'{"model": "embed-default", "input": "\\ud800 lone surrogate"}', "input"),
        (b'{"model": "embed-default", "input": ["ok", 3]}', "input"),
        (b'{"model": "embed-default", "input": []}', "input"),
        (b'{"model": "embed-default", "input": "x", "dimensions": 99999}', "dimensions"),
        (b'{"model": "embed-default", "input": "x", "dimensions": 2000}', "dimensions"),  # local: 1-1024
        (b'{"model": "embed-default", "input": "x", "dimensions": true}', "dimensions"),
        (b'{"input": "x"}', "model"),
    ]
    for raw, param in bodies:
        response = await client.post(PATH, data=raw, headers=headers)
        body = await response.get_json()
        assert response.status_code == 400, (raw, body)
        assert body["error"]["param"].split(".")[0] == param, (raw, body)
