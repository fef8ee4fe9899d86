"""Honest models (contract §12, issue 26 item 2): `GET /v1/models` lists exactly what the caller can
use, with what each answers, and `GET /v1/models/{id}` answers one. Through the openai SDK against a
real Muse over HTTP (tests/fixtures/openai_server.py: Gemini then OpenAI for chat, Replicate then
OpenAI for images, Gemini and OpenAI for embeddings, worker in process).

What the caller cannot use now is not listed: a premium model below their role, a feature or a
provider switched off in live settings, a provider not configured, what their API key's scopes and
models leave out; and every model listed answers a minimal request of each kind it names."""

from __future__ import annotations

import uuid

import openai
import pytest

from services.platform.principal import Role

pytestmark = pytest.mark.usefixtures("sdk_fakes")


def client_of(muse_http, *, role: Role = Role.USER) -> openai.OpenAI:
    clerk_id = f"user_{uuid.uuid4().hex[:10]}"
    key, user_id = muse_http.user_key(clerk_id)
    if role != Role.USER:
        muse_http.call(lambda c: c.identity.users.set_role(user_id, role))
    return openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1", max_retries=0)


def listed(client: openai.OpenAI) -> dict[str, list[str]]:
    models = client.models.list().data
    assert len({m.id for m in models}) == len(models)
    assert all(m.object == "model" and m.owned_by == "muse" and m.created > 0 for m in models)
    return {m.id: m.capabilities for m in models}  # type: ignore[attr-defined]


def test_a_free_user_is_offered_no_premium_model_and_each_model_says_what_it_answers(muse_http):
    offered = listed(client_of(muse_http))
    assert offered["default"] == ["chat", "images"]
    assert offered["replicate"] == ["images"] and offered["openai"] == ["images"]
    assert offered["embed-default"] == offered["gemini-embedding-001"] == ["embeddings"]
    assert offered["text-embedding-3-small"] == ["embeddings"]
    assert "pro" not in offered  # chat would answer 403: not offered
    subscriber = listed(client_of(muse_http, role=Role.SUBSCRIBER))
    assert subscriber["pro"] == ["chat"] and set(subscriber) == set(offered) | {"pro"}


def test_retrieve_answers_a_listed_model_and_404_otherwise(muse_http):
    client = client_of(muse_http)
    default = client.models.retrieve("default")
    assert default.id == "default" and default.capabilities == ["chat", "images"]  # type: ignore[attr-defined]
    assert client.models.retrieve("replicate").capabilities == ["images"]  # type: ignore[attr-defined]
    for hidden in ("pro", "gpt-4o", "nope/with/slashes"):
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve(hidden)
        assert caught.value.code == "model_not_found" and caught.value.param == "model"


@pytest.mark.parametrize("role", [Role.USER, Role.SUBSCRIBER])
def test_every_listed_model_answers_a_minimal_request_of_its_kind(muse_http, role):
    client = client_of(muse_http, role=role)
    offered = listed(client)
    answered = []
    for model_id, capabilities in offered.items():
        if "chat" in capabilities:
            reply = client.chat.completions.create(
                model=model_id, messages=[{"role": "user", "content": f"hi {uuid.uuid4().hex}"}])
            assert reply.choices[0].message.content, model_id
            answered.append((model_id, "chat"))
        if "images" in capabilities:
            image = client.images.generate(model=model_id, prompt=f"a fox {uuid.uuid4().hex}")
            assert image.data[0].url, model_id
            answered.append((model_id, "images"))
        if "embeddings" in capabilities:
            vectors = client.embeddings.create(model=model_id, input=f"a fox {uuid.uuid4().hex}")
            assert len(vectors.data) == 1 and len(vectors.data[0].embedding) >= 128, model_id
            answered.append((model_id, "embeddings"))
    assert len(answered) == sum(len(c) for c in offered.values()) >= 7
    assert {kind for _model, kind in answered} == {"chat", "images", "embeddings"}


def switched(muse_http, patch: dict):
    """Apply a live-settings change for the duration of a `with` block (then undo it)."""
    import contextlib

    def update(values: dict) -> None:
        muse_http.call(lambda c: c.platform.live_settings.update(values, admin_id="usr_admin",
                                                                 request_id=None))

    @contextlib.contextmanager
    def scope():
        update(patch)
        try:
            yield
        finally:
            update({k: ({n: True for n in v} if isinstance(v, dict) else True) for k, v in patch.items()})
    return scope()


def test_a_switched_off_feature_or_provider_takes_its_models_off_the_list(muse_http):
    client = client_of(muse_http)
    with switched(muse_http, {"chat_enabled": False}):
        offered = listed(client)
    assert all("chat" not in c for c in offered.values()) and offered["default"] == ["images"]
    with switched(muse_http, {"images_enabled": False}):
        offered = listed(client)
    assert all("images" not in c for c in offered.values()) and "replicate" not in offered
    with switched(muse_http, {"providers": {"replicate": False, "openai": False}}):
        offered = listed(client)
    assert "replicate" not in offered and offered["default"] == ["chat"]  # no image provider left on
    assert "text-embedding-3-small" not in offered and offered["embed-default"] == ["embeddings"]
    with switched(muse_http, {"providers": {"gemini": False, "openai": False}}):
        offered = listed(client)
    assert all("chat" not in c and "embeddings" not in c for c in offered.values())
    assert set(listed(client)) >= {"default", "replicate", "embed-default", "text-embedding-3-small"}


def test_an_api_keys_scopes_and_models_narrow_the_list(muse_http):
    from tests.fixtures.identity import make_token

    clerk_id = f"user_{uuid.uuid4().hex[:10]}"
    muse_http.user_key(clerk_id)
    token = make_token(clerk_id)
    images_only = muse_http.post_json("/api/v1/api-keys", {"name": "img", "scopes": ["images"]}, token)
    offered = listed(openai.OpenAI(api_key=images_only["key"], base_url=muse_http.base_url + "/v1"))
    assert offered == {"default": ["images"], "replicate": ["images"], "openai": ["images"]}
    narrow = muse_http.post_json("/api/v1/api-keys", {"name": "one", "models": ["embed-default"]}, token)
    client = openai.OpenAI(api_key=narrow["key"], base_url=muse_http.base_url + "/v1", max_retries=0)
    assert listed(client) == {"embed-default": ["embeddings"]}
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("default")
