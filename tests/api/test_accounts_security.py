"""Muse's own accounts, the security properties of contract §17: one answer for every failed sign-in,
throttling, password rules, a single signup grant, and passwords kept out of logs and storage."""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import pytest

from app import create_app
from providers.argon2_hasher import Argon2PasswordHasher
from repositories.accounts import BeanieAccountRepository
from services.identity.ports.accounts import Account
from services.platform.clock import utcnow
from tests.conftest import app_instances
from tests.fixtures.accounts import PASSWORD, bearer, local_settings_for, mailed_token, register

LOGIN = "/api/v1/auth/login"


def _from(ip: str) -> dict:
    return {"scope_base": {"client": (ip, 40000)}}


async def _login(client, email: str, password: str, ip: str = "192.0.2.1"):
    return await client.post(LOGIN, json={"email": email, "password": password}, **_from(ip))


async def test_wrong_password_and_unknown_email_answer_alike_with_similar_timing(servers, tmp_path):
    # Limits high enough for the timing samples; a costlier hash so it dominates the noise of a shared CPU.
    settings = local_settings_for(servers, tmp_path, auth_login_ip_limit=1000, auth_login_account_limit=1000,
                                  auth_argon2_time_cost=2, auth_argon2_memory_kib=16384)
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        await register(client, "hal@example.com")
        await _login(client, "ghost@example.com", "whatever it is")  # warm up (the dummy hash is made once)
        wrong, unknown = [], []
        bodies: dict[str, list] = {"wrong": [], "unknown": []}
        for i in range(6):
            for kind, email, samples in (("wrong", "hal@example.com", wrong),
                                         ("unknown", f"ghost{i}@example.com", unknown)):
                started = time.perf_counter()
                response = await _login(client, email, "not the password")
                samples.append(time.perf_counter() - started)
                body = await response.get_json()
                bodies[kind].append((response.status_code, response.headers.get("WWW-Authenticate"),
                                     {k: v for k, v in body.items() if k != "request_id"}))
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert bodies["wrong"][0] == bodies["unknown"][0]
    assert len({json.dumps(b, sort_keys=True) for b in bodies["wrong"] + bodies["unknown"]}) == 1
    status, challenge, problem = bodies["wrong"][0]
    assert status == 401 and challenge and problem["detail"] == "The email or password is incorrect."
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, (statistics.median(unknown), statistics.median(wrong))


async def test_the_sixth_rapid_failure_from_one_ip_is_429_with_retry_after(local_client):
    await register(local_client, "ivy@example.com")
    statuses = []
    for i in range(6):
        statuses.append((await _login(local_client, f"user{i}@example.com", "wrong guess!")).status_code)
    assert statuses == [401] * 5 + [429]
    throttled = await _login(local_client, "ivy@example.com", PASSWORD)  # even the right password waits
    assert throttled.status_code == 429
    assert (await throttled.get_json())["code"] == "rate_limited"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 900
    assert (await _login(local_client, "ivy@example.com", PASSWORD, ip="198.51.100.7")).status_code == 200


async def test_failures_on_one_account_from_many_ips_are_limited_too(local_client):
    await register(local_client, "jay@example.com")
    statuses = [(await _login(local_client, "jay@example.com", "wrong guess!", ip=f"203.0.113.{i}"))
                .status_code for i in range(11)]
    assert statuses == [401] * 10 + [429]
    # The same limit for an address that has no account: nothing tells the two apart.
    unknown = [(await _login(local_client, "nope@example.com", "wrong guess!", ip=f"203.0.113.{50 + i}"))
               .status_code for i in range(11)]
    assert unknown == statuses


async def test_concurrent_guesses_cannot_overrun_the_limit(local_client):
    await register(local_client, "kim@example.com")
    responses = await asyncio.gather(*(_login(local_client, "kim@example.com", f"guess number {i}")
                                       for i in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 5 + [429] * 7


async def test_successful_sign_ins_do_not_use_up_the_limit(local_client):
    await register(local_client, "lou@example.com")
    statuses = [(await _login(local_client, "lou@example.com", PASSWORD)).status_code for _ in range(8)]
    assert statuses == [200] * 8


@pytest.mark.parametrize("password", [
    "short", "123456789", "1234567890", "password123", "qwertyuiop", "QwertyUiop", "aaaaaaaaaaaa",
    "mia@example.com",
], ids=["short", "nine", "digits", "password123", "qwertyuiop", "case", "repeated", "email"])
async def test_a_weak_or_common_password_is_422_and_not_echoed(local_client, password):
    response = await local_client.post("/api/v1/auth/register",
                                       json={"email": "mia@example.com", "password": password})
    assert response.status_code == 422
    body = await response.get_json()
    assert body["code"] == "validation_error" and body["errors"][0]["loc"] == ["body", "password"]
    assert password not in json.dumps(body)


async def test_a_registered_user_gets_the_signup_grant_once_under_concurrent_first_requests(
        servers, tmp_path):
    settings = local_settings_for(servers, tmp_path)
    async with app_instances(settings) as apps:
        one, two = (a.test_client() for a in apps)
        body = {"email": "ned@example.com", "password": PASSWORD}
        registrations = await asyncio.gather(*(c.post("/api/v1/auth/register", json=body)
                                               for c in (one, two, one, two)))
        assert sorted(r.status_code for r in registrations) == [201, 409, 409, 409]
        created = [await r.get_json() for r in registrations if r.status_code == 201]
        token = created[0]["access_token"]
        requests = [c.get(path, headers=bearer(token)) for c in (one, two)
                    for path in ("/api/v1/me", "/api/v1/credits") for _ in range(5)]
        logins = [c.post(LOGIN, json=body, **_from(f"192.0.2.{i}")) for i, c in enumerate((one, two) * 2)]
        answers = await asyncio.gather(*requests, *logins)
        assert {r.status_code for r in answers} == {200}
        credits = await (await two.get("/api/v1/credits", headers=bearer(token))).get_json()
        db = apps[0].extensions["container"].platform.database.db
        user_count = await db["users"].count_documents({"email": "ned@example.com"})
        grants = await db["credit_ledger"].count_documents({"kind": "grant"})
    assert user_count == 1 and grants == 1 and credits["balance"] == 50


async def test_an_account_whose_user_is_missing_gets_one_user_and_one_grant_on_concurrent_logins(
        servers, tmp_path):
    """A registration that stopped between the account and the user: concurrent logins finish it once."""
    settings = local_settings_for(servers, tmp_path)
    async with app_instances(settings) as apps:
        hasher = Argon2PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1)
        await BeanieAccountRepository().create(Account(
            id="acc_half", email="oz@example.com", password_hash=await hasher.hash(PASSWORD),
            subject="local:acc_half", created_at=utcnow()))
        clients = [a.test_client() for a in apps] * 4
        answers = await asyncio.gather(*(c.post(LOGIN, json={"email": "oz@example.com", "password": PASSWORD},
                                                **_from(f"192.0.2.{i}")) for i, c in enumerate(clients)))
        assert [r.status_code for r in answers] == [200] * 8
        db = apps[0].extensions["container"].platform.database.db
        users = await db["users"].find({"clerk_id": "local:acc_half"}).to_list(10)
        grants = await db["credit_ledger"].count_documents({"kind": "grant", "user_id": users[0]["_id"]})
    assert len(users) == 1 and grants == 1


async def test_passwords_never_reach_the_logs_or_any_stored_record(local_app, local_client, logs):
    first, wrong, weak = "first secret passphrase", "wrong secret guess", "weakpw"
    second = "second secret phrase"
    await register(local_client, "pat@example.com", password=first, name="Pat")
    assert (await local_client.post("/api/v1/auth/register",
                                    json={"email": "pia@example.com", "password": weak})).status_code == 422
    assert (await _login(local_client, "pat@example.com", wrong)).status_code == 401
    assert (await _login(local_client, "pat@example.com", first)).status_code == 200
    await local_client.post("/api/v1/auth/password/forgot", json={"email": "pat@example.com"})
    token = await mailed_token(local_app, "pat@example.com", "reset")
    reset = await local_client.post("/api/v1/auth/password/reset", json={"token": token, "password": second})
    assert reset.status_code == 200
    assert (await _login(local_client, "pat@example.com", second)).status_code == 200

    secrets = (first, wrong, weak, second)
    logged = logs.stream.getvalue()
    assert "account_registered" in logged and "login_failed" in logged and "password_reset" in logged
    assert not [s for s in secrets if s in logged]

    container = local_app.extensions["container"]
    db = container.platform.database.db
    stored = []
    for name in await db.list_collection_names():
        stored += [json.dumps(doc, default=str) for doc in await db[name].find({}).to_list(10_000)]
    everything = "\n".join(stored)
    assert "pat@example.com" in everything  # the scan did see the account
    assert not [s for s in secrets if s in everything]
    account = await db["accounts"].find_one({"email": "pat@example.com"})
    assert account["password_hash"].startswith("$argon2id$")
    redis = container.platform.redis
    values = []
    async for key in redis.scan_iter(match=f"muse:{container.settings.mongodb_db}:*"):
        kind = await redis.type(key)
        if kind == b"string":
            values.append(await redis.get(key))
        elif kind == b"list":
            values += await redis.lrange(key, 0, -1)
        elif kind == b"hash":
            values += list((await redis.hgetall(key)).values())
    assert values and not [s for s in secrets if any(s.encode() in v for v in values)]
