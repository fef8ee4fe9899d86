"""Abuse limits (issue 19): failed authentication is limited per client IP; /media/ has its own bucket."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import make_settings
from tests.fixtures.identity import make_token


@pytest.fixture
async def default_limits_app(servers, tmp_path, settings):
    """Rate limits on, with the default buckets (contract §1)."""
    s = make_settings(servers, tmp_path, rate_limits_enabled=True, mongodb_db=settings.mongodb_db)
    application = create_app(s)
    async with application.test_app():
        yield application
        await application.extensions["container"].platform.database.client.drop_database(s.mongodb_db)


def _from(ip: str) -> dict:
    return {"scope_base": {"client": (ip, 40000)}}


async def test_thirty_bad_tokens_from_one_ip_hit_429_with_retry_after(default_limits_app):
    client = default_limits_app.test_client()
    statuses, refused = [], None
    for i in range(30):
        credential = f"mk_live_guess{i:04d}" if i % 2 else f"not.a.jwt{i}"
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {credential}"},
                                    **_from("203.0.113.7"))
        statuses.append(response.status_code)
        if response.status_code == 429 and refused is None:
            refused = response
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}, statuses
    assert refused is not None and int(refused.headers["Retry-After"]) >= 1
    assert (await refused.get_json())["code"] == "rate_limited"
    # while blocked, even a valid credential from that address is refused unverified (no oracle)
    blocked = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {make_token('guesser')}"},
                               **_from("203.0.113.7"))
    assert blocked.status_code == 429
    # another address is not affected
    other = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {make_token('someone')}"},
                             **_from("198.51.100.20"))
    assert other.status_code == 200


async def test_a_gallery_of_forty_thumbnails_does_not_use_the_anonymous_bucket(default_limits_app):
    container = default_limits_app.extensions["container"]
    client = default_limits_app.test_client()
    from tests.fixtures.images import picture

    stored = [await container.media.storage.put(picture(), folder="usr_gallery", name=f"img_thumb{i}",
                                                content_type="image/png") for i in range(40)]
    statuses = [(await client.get("/media/" + obj.key, **_from("192.0.2.55"))).status_code for obj in stored]
    assert statuses == [200] * 40
    # and the API bucket of that address is untouched by them
    api = await client.get("/api/v1/plans", **_from("192.0.2.55"))
    assert api.status_code == 200 and api.headers["RateLimit-Remaining"] == "19"
