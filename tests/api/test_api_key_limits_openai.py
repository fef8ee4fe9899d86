"""API-key limits through the official `openai` SDK on /v1 (contract §19): each refusal arrives
in OpenAI's error envelope with Muse's code, as the SDK's matching exception."""

from __future__ import annotations

import uuid
from datetime import timedelta

import openai
import pytest

from services.platform import clock as clock_module
from services.platform.clock import isoformat, utcnow
from tests.fixtures.identity import make_token

pytestmark = pytest.mark.usefixtures("sdk_fakes")


def _limited_key(muse_http, **limits) -> str:
    token = make_token(f"user_{uuid.uuid4().hex[:10]}")
    created = muse_http.post_json("/api/v1/api-keys", {"name": "sdk", **limits}, token)
    return created["key"]


def _sdk(muse_http, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=muse_http.base_url + "/v1", max_retries=0)


def _chat(client: openai.OpenAI, model: str = "default"):
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": f"hi {uuid.uuid4().hex}"}])


def _envelope(error: openai.APIStatusError, status: int, code: str) -> dict:
    assert error.status_code == status
    body = error.response.json()
    assert body["error"]["code"] == code and body["error"]["message"] and body["request_id"]
    return body["error"]


def test_scope_refusal_is_a_permission_error(muse_http):
    client = _sdk(muse_http, _limited_key(muse_http, scopes=["images"]))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        _chat(client)
    assert _envelope(caught.value, 403, "api_key_scope")["type"] == "permission_error"
    assert caught.value.code == "api_key_scope"


def test_model_refusal_names_the_model_param(muse_http):
    client = _sdk(muse_http, _limited_key(muse_http, models=["default"]))
    assert _chat(client).choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError) as caught:
        _chat(client, model="pro")
    assert _envelope(caught.value, 403, "api_key_model")["param"] == "model"


def test_ip_refusal(muse_http):
    client = _sdk(muse_http, _limited_key(muse_http, allowed_ips=["10.0.0.0/8"]))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.models.list()
    _envelope(caught.value, 403, "api_key_ip")


def test_an_expired_key_is_refused_at_once(muse_http):
    client = _sdk(muse_http, _limited_key(muse_http, expires_at=isoformat(utcnow() + timedelta(minutes=1))))
    assert client.models.list().data
    clock_module.clock.offset = timedelta(minutes=1, seconds=1)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.models.list()
    _envelope(caught.value, 401, "api_key_expired")


def test_cap_refusal_is_a_rate_limit_error_with_retry_after(muse_http):
    client = _sdk(muse_http, _limited_key(muse_http, monthly_credit_cap=1))
    assert _chat(client).choices[0].message.content
    with pytest.raises(openai.RateLimitError) as caught:
        _chat(client)
    _envelope(caught.value, 429, "api_key_cap_reached")
    assert int(caught.value.response.headers["Retry-After"]) > 0
