"""`POST /v1/embeddings` (contract §12, issue 26) through the official `openai` SDK over real HTTP.

A running Muse (tests/fixtures/openai_server.py) whose embedding providers are the Gemini and
OpenAI wire fakes (tests/fakes/embeddings.py): `embed-default` and `gemini-embedding-001` are
answered by Gemini, `text-embedding-3-small` by OpenAI, one provider per model, never another.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import urllib.request
import uuid

import openai
import pytest

from services.embeddings.service import estimate_tokens
from tests.fakes.embeddings import gemini_vector, openai_vector, unit
from tests.fixtures.identity import make_token

pytestmark = pytest.mark.usefixtures("sdk_fakes")

PATH = "/v1/embeddings"


def sdk(muse_http, key: str, **options) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1", **{"max_retries": 0, **options})


def new_user(muse_http) -> tuple[str, str, str]:
    """(Clerk id, API key, user id) of a new free user."""
    clerk_id = f"user_{uuid.uuid4().hex[:10]}"
    key, user_id = muse_http.user_key(clerk_id)
    return clerk_id, key, user_id


def spendable(muse_http, user_id: str) -> int:
    async def read(container) -> int:
        await container.credits.service.settle()
        return (await container.credits.service.summary(user_id, plan="free"))["spendable"]
    return muse_http.call(read)


def float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def close(a: list[float], b: list[float], tolerance: float = 1e-6) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_float_and_base64_give_the_same_vectors_and_the_sdk_decodes_its_default_base64(muse_http, sdk_fakes):
    _, key, _ = new_user(muse_http)
    client, text = sdk(muse_http, key), f"the first text {uuid.uuid4().hex}"
    raw = client.embeddings.with_raw_response.create(model="embed-default", input=text,
                                                     encoding_format="float")
    answer = raw.parse()
    assert answer.object == "list" and answer.model == "embed-default" and len(answer.data) == 1
    assert answer.data[0].object == "embedding" and answer.data[0].index == 0
    floats = answer.data[0].embedding
    assert len(floats) == 3072 and close(floats, float32(gemini_vector(text, 3072, None)))
    assert raw.headers["X-Muse-Provider"] == "gemini" and raw.headers["X-Muse-Cached"] == "false"
    # Gemini counts no tokens: Muse's estimate
    assert answer.usage.prompt_tokens == answer.usage.total_tokens == estimate_tokens(text)
    encoded = client.embeddings.create(model="embed-default", input=text, encoding_format="base64")
    assert isinstance(encoded.data[0].embedding, str)  # asked for explicitly: left as OpenAI sends it
    assert list(struct.unpack("<3072f", base64.b64decode(encoded.data[0].embedding))) == floats
    decoded = client.embeddings.create(model="embed-default", input=text)  # the SDK asks for base64
    assert decoded.data[0].embedding == floats  # ...and decodes it to the very same floats
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 1  # the encoding is not part of the cache key


def test_a_batch_keeps_its_order_and_dimensions_and_user_reach_openai(muse_http, sdk_fakes):
    _, key, _ = new_user(muse_http)
    texts = [f"alpha {uuid.uuid4().hex}", "beta gamma", f"delta epsilon zeta {uuid.uuid4().hex}"]
    answer = sdk(muse_http, key).embeddings.create(model="text-embedding-3-small", input=texts,
                                                   dimensions=256, user="end-user-7", encoding_format="float")
    assert [d.index for d in answer.data] == [0, 1, 2]
    for datum, text in zip(answer.data, texts, strict=True):
        assert close(datum.embedding, openai_vector(text, 1536, 256))
    sent = sdk_fakes["openai"].calls[-1].body
    assert sent["dimensions"] == 256 and sent["user"] == "end-user-7" and sent["input"] == texts
    assert sent["model"] == "text-embedding-3-small"
    assert answer.usage.prompt_tokens == sum(len(t.split()) for t in texts)  # OpenAI's own count
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 0  # one provider per model


def test_a_large_batch_goes_to_gemini_in_batches_of_100_as_unit_vectors(muse_http, sdk_fakes):
    _, key, _ = new_user(muse_http)
    texts = [f"item {i} {uuid.uuid4().hex[:6]}" for i in range(130)]
    answer = sdk(muse_http, key).embeddings.create(model="gemini-embedding-001", input=texts, dimensions=128,
                                                   encoding_format="float")
    calls = [c for c in sdk_fakes["gemini"].calls if c.path.endswith(":batchEmbedContents")]
    assert sorted(len(c.body["requests"]) for c in calls) == [30, 100]
    assert {r["outputDimensionality"] for c in calls for r in c.body["requests"]} == {128}
    assert len(answer.data) == 130 and [d.index for d in answer.data] == list(range(130))
    for datum, text in zip(answer.data, texts, strict=True):  # Gemini's cut vector, made unit length
        assert close(datum.embedding, float32(unit(gemini_vector(text, 3072, 128))))
        assert math.isclose(math.sqrt(sum(x * x for x in datum.embedding)), 1.0, abs_tol=1e-5)


def test_the_price_is_per_1000_tokens_rounded_up_and_usage_counts_the_embedding_kind(muse_http, sdk_fakes):
    clerk_id, key, user_id = new_user(muse_http)
    before = spendable(muse_http, user_id)
    text = "word " * 820 + uuid.uuid4().hex  # 4 132 characters: 1 033 tokens → 2 credits
    raw = sdk(muse_http, key).embeddings.with_raw_response.create(model="embed-default", input=text)
    assert raw.headers["X-Muse-Credits-Charged"] == "2"
    assert spendable(muse_http, user_id) == before - 2
    request = urllib.request.Request(muse_http.base_url + "/api/v1/usage?group_by=kind",
                                     headers={"Authorization": f"Bearer {make_token(clerk_id)}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        rows = {row["key"]: row for row in json.loads(response.read())["rows"]}
    assert rows["embedding"]["requests"] == 1 and rows["embedding"]["credits"] == 2
    assert rows["embedding"]["tokens_in"] == estimate_tokens(text)


def test_a_cache_hit_charges_nothing_and_other_dimensions_are_another_answer(muse_http, sdk_fakes):
    _, key, user_id = new_user(muse_http)
    client, texts = sdk(muse_http, key), [f"cached {uuid.uuid4().hex}", "second"]
    first = client.embeddings.with_raw_response.create(model="embed-default", input=texts, dimensions=512)
    after_first = spendable(muse_http, user_id)
    again = client.embeddings.with_raw_response.create(model="embed-default", input=texts, dimensions=512,
                                                       encoding_format="float", user="someone-else")
    assert first.headers["X-Muse-Credits-Charged"] == "1" and first.headers["X-Muse-Cached"] == "false"
    assert again.headers["X-Muse-Credits-Charged"] == "0" and again.headers["X-Muse-Cached"] == "true"
    assert again.parse().data[1].embedding == first.parse().data[1].embedding  # bit for bit
    assert spendable(muse_http, user_id) == after_first
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 1
    other = client.embeddings.with_raw_response.create(model="embed-default", input=texts, dimensions=256)
    assert other.headers["X-Muse-Cached"] == "false" and len(other.parse().data[0].embedding) == 256
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 2


def test_out_of_credits_is_insufficient_quota_with_one_request_and_no_provider_call(muse_http, sdk_fakes):
    _, key, user_id = new_user(muse_http)
    muse_http.call(lambda c: c.credits.service.charge(user_id, 25, plan="free", kind="chat",
                                                      ref=f"drain-{uuid.uuid4().hex}", request_id=None))
    client = openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1")  # default retries (2)
    before = muse_http.requests(PATH)
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model="embed-default", input=f"poor {uuid.uuid4().hex}")
    assert caught.value.code == "insufficient_quota" and caught.value.status_code == 429
    assert muse_http.requests(PATH) - before == 1
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 0


def test_a_key_without_the_embeddings_scope_is_refused(muse_http, sdk_fakes):
    clerk_id, _, _ = new_user(muse_http)
    created = muse_http.post_json("/api/v1/api-keys", {"name": "chat only", "scopes": ["chat"]},
                                  make_token(clerk_id))
    client = sdk(muse_http, created["key"])
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.embeddings.create(model="embed-default", input="hello")
    assert caught.value.code == "api_key_scope"
    assert all("embeddings" not in m.capabilities for m in client.models.list().data)  # type: ignore[attr-defined]
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 0


def test_bad_parameters_are_bad_requests_naming_them_before_anything_is_charged(muse_http, sdk_fakes):
    _, key, user_id = new_user(muse_http)
    client, before = sdk(muse_http, key), spendable(muse_http, user_id)
    refusals = [
        ({"model": "text-embedding-3-small", "input": "x", "dimensions": 2000}, "dimensions"),
        ({"model": "gemini-embedding-001", "input": "x", "dimensions": 64}, "dimensions"),
        ({"model": "embed-default", "input": [[15339, 1917]]}, "input"),  # token arrays
        ({"model": "embed-default", "input": [15339, 1917]}, "input"),
        ({"model": "embed-default", "input": ["ok", "  "]}, "input"),
        ({"model": "embed-default", "input": "x" * 9000}, "input"),  # > 2 048 tokens for Gemini
        ({"model": "embed-default", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "embed-default", "input": "x", "extra_body": {"task_type": "QUERY"}}, "task_type"),
    ]
    for fields, param in refusals:
        extra = fields.pop("extra_body", None)
        with pytest.raises(openai.BadRequestError) as caught:
            client.embeddings.create(**fields, extra_body=extra)
        assert caught.value.param == param, (fields, caught.value.message)
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="embed-default", input=[[15339, 1917]])
    assert "token arrays" in caught.value.message
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="default", input="a chat model is not an embedding model")
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    assert spendable(muse_http, user_id) == before
    assert sdk_fakes["gemini"].count() == sdk_fakes["openai"].count() == 0


def test_a_provider_failure_is_refunded_and_never_answered_by_another_provider(muse_http, sdk_fakes):
    _, key, user_id = new_user(muse_http)
    client, before = sdk(muse_http, key), spendable(muse_http, user_id)
    sdk_fakes["gemini"].mode = "503"
    with pytest.raises(openai.APIStatusError) as caught:
        client.embeddings.create(model="embed-default", input=f"fails {uuid.uuid4().hex}")
    assert caught.value.status_code == 502 and caught.value.code == "provider_unavailable"
    assert sdk_fakes["openai"].count("/embeddings") == 0  # no failover across providers
    assert spendable(muse_http, user_id) == before  # charged, then refunded
    sdk_fakes["gemini"].mode = "ok"
    text = f"recovers {uuid.uuid4().hex}"
    answer = client.embeddings.with_raw_response.create(model="embed-default", input=text)
    assert answer.headers["X-Muse-Cached"] == "false"  # the failure was not cached


def test_a_switched_off_provider_switches_off_its_models_only(muse_http, sdk_fakes):
    _, key, _ = new_user(muse_http)
    client = sdk(muse_http, key)

    def switch(enabled: bool) -> None:
        muse_http.call(lambda c: c.platform.live_settings.update(
            {"providers": {"gemini": enabled}}, admin_id="usr_admin", request_id=None))

    switch(False)
    try:
        listed = {m.id: m.capabilities for m in client.models.list().data}  # type: ignore[attr-defined]
        with pytest.raises(openai.InternalServerError) as caught:
            client.embeddings.create(model="embed-default", input="hello")
        answer = client.embeddings.create(model="text-embedding-3-small", input="hello")
    finally:
        switch(True)
    assert caught.value.status_code == 503 and caught.value.code == "feature_disabled"
    assert "embed-default" not in listed and "gemini-embedding-001" not in listed
    assert listed["text-embedding-3-small"] == ["embeddings"] and "chat" in listed["default"]
    assert len(answer.data[0].embedding) == 1536
    assert sdk_fakes["gemini"].count("batchEmbedContents") == 0
