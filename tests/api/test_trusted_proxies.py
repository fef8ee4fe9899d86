"""Behind proxies (contract §16, issue 27 item 1): `X-Forwarded-For` / `-Proto` are believed from the
peers in FORWARDED_ALLOW_IPS only, read right to left through trusted hops; the client so found is the
one sign-in throttles, the anonymous and /media/ buckets, the principal and the audit log use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from quart import Quart, request

from app import create_app
from app.config import Settings
from middlewares.client_ip import client_ip, trust_proxies
from repositories.audit_log import AuditLogDocument
from tests.conftest import make_settings
from tests.fixtures.accounts import PASSWORD, local_settings_for, register
from tests.fixtures.identity import make_token

LOGIN = "/api/v1/auth/login"
PROXY = "127.0.0.1"  # the default FORWARDED_ALLOW_IPS trusts loopback only


def _via(peer: str, forwarded_for: str | None = None, **headers: str) -> dict:
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    return {"scope_base": {"client": (peer, 40000)}, "headers": headers}


async def _login(client, email: str, password: str, **via):
    return await client.post(LOGIN, json={"email": email, "password": password}, **via)


@pytest.fixture
async def limited_local_client(servers, tmp_path):
    """Local accounts with rate limits on and the default trusted proxies."""
    settings = local_settings_for(servers, tmp_path, rate_limits_enabled=True)
    app = create_app(settings)
    async with app.test_app():
        yield app.test_client()
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def test_five_bad_passwords_from_one_client_behind_the_proxy_do_not_lock_out_another(
        limited_local_client):
    client = limited_local_client
    await register(client, "una@example.com")
    statuses = [(await _login(client, f"x{i}@example.com", "wrong guess!", **_via(PROXY, "198.51.100.1")))
                .status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    # Another client behind the same proxy signs in at once; the throttled one still waits.
    other = await _login(client, "una@example.com", PASSWORD, **_via(PROXY, "198.51.100.2"))
    assert other.status_code == 200
    same = await _login(client, "una@example.com", PASSWORD, **_via(PROXY, "198.51.100.1"))
    assert same.status_code == 429


async def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(limited_local_client):
    client = limited_local_client
    await register(client, "vic@example.com")
    # A direct caller spoofing a new X-Forwarded-For each time is still one address to the throttle.
    statuses = [(await _login(client, f"y{i}@example.com", "wrong guess!",
                              **_via("203.0.113.66", f"198.51.100.{10 + i}"))).status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    spoofed = await _login(client, "vic@example.com", PASSWORD, **_via("203.0.113.66", "198.51.100.99"))
    assert spoofed.status_code == 429


@pytest.fixture
async def proxied_app(servers, tmp_path):
    """Rate limits on; a load balancer network (10.0.0.0/8) in front of Muse."""
    settings = make_settings(servers, tmp_path, rate_limits_enabled=True,
                             forwarded_allow_ips="10.0.0.0/8", admin_user_ids=["proxy_admin"])
    app = create_app(settings)
    async with app.test_app():
        yield app
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)


async def test_the_chain_is_read_right_to_left_through_trusted_hops_only(proxied_app):
    client = proxied_app.test_client()

    async def remaining(**via) -> int:
        response = await client.get("/api/v1/plans", **via)
        assert response.status_code == 200
        return int(response.headers["RateLimit-Remaining"])

    # Two hops of our network in front; whatever the client wrote further left is not believed.
    assert await remaining(**_via("10.0.0.5", "198.51.100.7, 10.2.0.1")) == 19
    assert await remaining(**_via("10.0.0.6", "6.6.6.6, 198.51.100.7, 10.2.0.1")) == 18  # same client
    assert await remaining(**_via("10.0.0.5", "198.51.100.8")) == 19  # another client: its own bucket
    # A peer outside the network is its own client, whatever it forwards.
    assert await remaining(**_via("192.0.2.9", "198.51.100.7")) == 19
    assert await remaining(**_via("192.0.2.9", "198.51.100.8")) == 18


async def test_the_media_bucket_and_the_audit_log_see_the_client_behind_the_proxy(proxied_app):
    container, client = proxied_app.extensions["container"], proxied_app.test_client()
    from tests.fixtures.images import picture

    stored = await container.media.storage.put(picture(), folder="usr_proxy", name="img_proxy",
                                               content_type="image/png")
    first = await client.get("/media/" + stored.key, **_via("10.0.0.5", "198.51.100.30"))
    second = await client.get("/media/" + stored.key, **_via("10.0.0.5", "198.51.100.31"))
    assert first.status_code == second.status_code == 200
    assert first.headers["RateLimit-Remaining"] == second.headers["RateLimit-Remaining"]

    headers = {"Authorization": f"Bearer {make_token('proxy_admin')}"}
    changed = await client.patch("/api/v1/admin/settings", json={"signup_credits": 7},
                                 **_via("10.9.9.9", "198.51.100.40", **headers))
    assert changed.status_code == 200
    entry = await AuditLogDocument.find_one(AuditLogDocument.action == "settings.update")
    assert entry is not None and entry.ip == "198.51.100.40"
    page = await (await client.get("/api/v1/admin/audit-log", **_via("10.9.9.9", "198.51.100.40", **headers))
                  ).get_json()
    assert page["items"][0]["ip"] == "198.51.100.40"


async def test_forwarded_proto_is_believed_from_a_trusted_peer_only():
    app = Quart("probe")

    @app.get("/where")
    async def where():
        return {"ip": client_ip(request), "scheme": request.scheme}

    trust_proxies(app, ["10.0.0.0/8", "::1"])
    client = app.test_client()
    trusted = await (await client.get("/where", **_via("10.1.1.1", "198.51.100.50",
                                                       **{"X-Forwarded-Proto": "https"}))).get_json()
    assert trusted == {"ip": "198.51.100.50", "scheme": "https"}
    ipv6 = await (await client.get("/where", **_via("::1", "2001:db8::7"))).get_json()
    assert ipv6["ip"] == "2001:db8::7"
    untrusted = await (await client.get("/where", **_via("192.0.2.1", "198.51.100.50",
                                                         **{"X-Forwarded-Proto": "https"}))).get_json()
    assert untrusted == {"ip": "192.0.2.1", "scheme": "http"}


def test_forwarded_allow_ips_takes_addresses_and_networks_and_refuses_anything_else():
    assert Settings(_env_file=None).forwarded_allow_ips == ["127.0.0.1", "::1"]  # type: ignore[call-arg]
    parsed = Settings(_env_file=None, forwarded_allow_ips="10.0.0.0/8, 192.0.2.4,fd00::/8")  # type: ignore[call-arg]
    assert parsed.forwarded_allow_ips == ["10.0.0.0/8", "192.0.2.4", "fd00::/8"]
    with pytest.raises(ValidationError, match="FORWARDED_ALLOW_IPS: 'proxy.local'"):
        Settings(_env_file=None, forwarded_allow_ips="10.0.0.1,proxy.local")  # type: ignore[call-arg]
