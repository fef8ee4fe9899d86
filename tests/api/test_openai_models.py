"""Honest models (contract §12, issue 26 item 2): `GET /v1/models` lists exactly what the caller can
use, with what each answers, and `GET /v1/models/{id}` answers one. Through the openai SDK against a
real Muse over HTTP (tests/fixtures/openai_server.py: Gemini then OpenAI for chat, Replicate then
OpenAI for images, worker in process)."""

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
    assert len(answered) == sum(len(c) for c in offered.values()) >= 4
