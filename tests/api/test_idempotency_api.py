"""Idempotency-Key over HTTP (contract §1), on a test route that charges 1 credit and on gift redemption."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from quart import Blueprint, Response, g

from app import create_app
from controllers.schemas.base import RequestBody
from middlewares.access import require_role
from middlewares.idempotency import idempotent
from middlewares.request_id import current_request_id
from services.platform.errors import UpstreamError
from services.platform.principal import Role
from tests.fixtures.credits import fund, travel
from tests.fixtures.identity import auth_headers

calls = {"n": 0}


class SpendIn(RequestBody):
    note: str = ""
    fail: bool = False


def _test_blueprint() -> Blueprint:
    from quart_schema import validate_request

    bp = Blueprint("idem_test", __name__)

    @bp.post("/test/spend")
    @require_role(Role.USER)
    @idempotent
    @validate_request(SpendIn)
    async def spend(data: SpendIn):
        """Charge one credit (test route)."""
        calls["n"] += 1
        from app.routes.deps import container as c
        await asyncio.sleep(0.02)  # long enough for twins to arrive while in flight
        if data.fail:
            raise UpstreamError()
        receipt = await c().credits.service.charge(g.principal.user_id, 1, plan=g.principal.plan, kind="chat",
                                                   ref=data.note, request_id=current_request_id())
        return {"receipt": receipt.id, "note": data.note}, 201

    @bp.post("/test/stream")
    @require_role(Role.USER)
    @idempotent
    async def stream():
        """Stream three events, charging one credit (test route)."""
        from app.routes.deps import container as c

        await c().credits.service.charge(g.principal.user_id, 1, plan=g.principal.plan, kind="chat",
                                         ref=None, request_id=current_request_id())

        async def events():
            for i in range(3):
                await asyncio.sleep(0)
                yield f"data: {i}\n\n"

        return Response(events(), content_type="text/event-stream")

    return bp


@pytest.fixture
async def spend_app(settings):
    application = create_app(settings)
    application.register_blueprint(_test_blueprint())
    async with application.test_app():
        yield application
        container = application.extensions["container"]
        await container.platform.database.client.drop_database(container.settings.mongodb_db)


async def _ledger_charges(client, headers) -> int:
    response = await client.get("/api/v1/credits/ledger?limit=100", headers=headers)
    items = (await response.get_json())["items"]
    return sum(1 for e in items if e["kind"] == "charge")


async def test_the_same_key_20_times_concurrently_charges_once(spend_app):
    client = spend_app.test_client()
    headers = {**await auth_headers(spend_app, "idem_user"), "Idempotency-Key": "k-123"}
    assert (await client.get("/api/v1/credits", headers=headers)).status_code == 200
    responses = await asyncio.gather(*[client.post("/test/spend", json={"note": "a"}, headers=headers)
                                       for _ in range(20)])
    ok = [r for r in responses if r.status_code == 201]
    busy = [r for r in responses if r.status_code == 409]
    assert len(ok) + len(busy) == 20 and len(ok) >= 1
    assert [(await r.get_json())["code"] for r in busy] == ["idempotency_in_flight"] * len(busy)
    bodies = {await r.get_data(as_text=True) for r in ok}
    assert len(bodies) == 1
    later = await client.post("/test/spend", json={"note": "a"}, headers=headers)
    assert later.status_code == 201 and await later.get_data(as_text=True) in bodies
    assert later.headers["Idempotent-Replayed"] == "true"
    assert await _ledger_charges(client, headers) == 1
    assert (await (await client.get("/api/v1/credits", headers=headers)).get_json())["allowance"]["used"] == 1

    mismatch = await client.post("/test/spend", json={"note": "b"}, headers=headers)
    assert mismatch.status_code == 422 and (await mismatch.get_json())["code"] == "idempotency_mismatch"


async def test_keys_are_per_principal_and_absent_keys_do_nothing_special(spend_app):
    client = spend_app.test_client()
    alice = {**await auth_headers(spend_app, "idem_alice"), "Idempotency-Key": "shared"}
    bob = {**await auth_headers(spend_app, "idem_bob"), "Idempotency-Key": "shared"}
    a = await client.post("/test/spend", json={"note": "x"}, headers=alice)
    b = await client.post("/test/spend", json={"note": "x"}, headers=bob)
    assert a.status_code == b.status_code == 201
    assert (await a.get_json())["receipt"] != (await b.get_json())["receipt"]
    plain = await auth_headers(spend_app, "idem_plain")
    for _ in range(2):
        assert (await client.post("/test/spend", json={"note": "x"}, headers=plain)).status_code == 201
    assert await _ledger_charges(client, plain) == 2


async def test_an_error_answer_is_replayed_but_a_5xx_releases_the_key(spend_app):
    client = spend_app.test_client()
    headers = await auth_headers(spend_app, "idem_err")
    container = spend_app.extensions["container"]
    user_id = (await (await client.get("/api/v1/me", headers=headers)).get_json())["id"]
    for _ in range(25):
        await container.credits.service.charge(user_id, 1, plan="free", kind="chat", ref=None,
                                               request_id=None)
    keyed = {**headers, "Idempotency-Key": "poor"}
    first = await client.post("/test/spend", json={}, headers=keyed)
    assert first.status_code == 402
    await fund(container.credits.service, user_id, 5)
    again = await client.post("/test/spend", json={}, headers=keyed)
    assert again.status_code == 402 and await again.get_data() == await first.get_data()

    failing = {**headers, "Idempotency-Key": "flaky"}
    assert (await client.post("/test/spend", json={"fail": True}, headers=failing)).status_code == 502
    assert (await client.post("/test/spend", json={"fail": True}, headers=failing)).status_code == 502


async def test_a_key_expires_after_24_hours(spend_app):
    client = spend_app.test_client()
    headers = {**await auth_headers(spend_app, "idem_ttl"), "Idempotency-Key": "daily"}
    first = await (await client.post("/test/spend", json={"note": "t"}, headers=headers)).get_json()
    travel(timedelta(hours=24, minutes=1))
    second = await client.post("/test/spend", json={"note": "t"}, headers=headers)
    assert second.status_code == 201 and (await second.get_json())["receipt"] != first["receipt"]


async def test_a_bad_key_is_422(spend_app):
    client = spend_app.test_client()
    headers = {**await auth_headers(spend_app, "idem_bad"), "Idempotency-Key": "x" * 256}
    response = await client.post("/test/spend", json={}, headers=headers)
    assert response.status_code == 422


async def test_gift_redemption_replays_with_the_same_key(app, client):
    admin = await auth_headers(app, "idem_admin", role="ADMIN")
    code = (await (await client.post("/api/v1/admin/gift-codes", json={"credits": 9},
                                     headers=admin)).get_json())["codes"][0]["code"]
    headers = {**await auth_headers(app, "idem_redeemer"), "Idempotency-Key": "redeem-1"}
    first = await client.post("/api/v1/gift-codes/redeem", json={"code": code}, headers=headers)
    second = await client.post("/api/v1/gift-codes/redeem", json={"code": code}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert await first.get_data() == await second.get_data()
    assert (await second.get_json())["balance"] == 9


@pytest.mark.burst
async def test_1000_concurrent_http_charges_against_50_spendable_succeed_exactly_50_times(spend_app):
    client = spend_app.test_client()
    headers = await auth_headers(spend_app, "idem_thousand")
    user_id = (await (await client.get("/api/v1/me", headers=headers)).get_json())["id"]
    await fund(spend_app.extensions["container"].credits.service, user_id, 25)  # + 25 allowance
    responses = await asyncio.gather(*[client.post("/test/spend", json={"note": "c"}, headers=headers)
                                       for _ in range(1000)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50 and statuses.count(402) == 950
    refused = next(r for r in responses if r.status_code == 402)
    assert (await refused.get_json())["code"] == "insufficient_credits"
    credits = await (await client.get("/api/v1/credits", headers=headers)).get_json()
    assert credits["spendable"] == 0 and credits["balance"] == 0
    audit = await spend_app.extensions["container"].credits.service.audit(user_id)
    assert audit["ok"] and audit["ledger_balance"] == 0


async def test_a_streamed_answer_is_stored_when_complete_and_replayed_whole(spend_app):
    client = spend_app.test_client()
    headers = {**await auth_headers(spend_app, "idem_stream"), "Idempotency-Key": "s-1"}
    first = await client.post("/test/stream", json={}, headers=headers)
    assert await first.get_data(as_text=True) == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    second = await client.post("/test/stream", json={}, headers=headers)
    assert second.status_code == 200 and second.headers["Idempotent-Replayed"] == "true"
    assert second.content_type.startswith("text/event-stream")
    assert await second.get_data(as_text=True) == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert await _ledger_charges(client, headers) == 1
