"""GET /api/v1/admin/stats against a seeded data set, provider switches in the chat chain and in stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.platform.clock import utcnow
from services.platform.ids import new_id
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import run_jobs

H = timedelta(hours=1)
D = timedelta(days=1)


async def _seed(db) -> dict[str, str]:
    """Users, ledger, images, conversations and payments inside and outside the 24 h / 30 d windows."""
    now = utcnow()
    u = {k: new_id("usr") for k in ("u1", "u2", "u3", "u4")}
    ages = {"u1": 2 * H, "u2": 10 * D, "u3": 30 * H, "u4": 1 * H}
    await db["users"].insert_many([
        {"_id": u[k], "clerk_id": f"clerk_{k}", "email": f"{k}@seed.test", "role": "USER", "plan": "free",
         "disabled": k == "u4", "created_at": now - age, "updated_at": now - age} for k, age in ages.items()])

    def led(user: str, kind: str, delta: int, age: timedelta, *, item: str | None = None,
            reason: str | None = None, admin_id: str | None = None) -> dict:
        return {"_id": new_id("led"), "key": new_id("key"), "user_id": u[user], "kind": kind, "at": now - age,
                "delta": delta, "sources": {"balance": delta}, "reason": reason, "admin_id": admin_id,
                "meta": {"item": item} if item else {}}

    await db["credit_ledger"].insert_many([
        led("u1", "charge", -1, 1 * H, item="chat"),
        led("u1", "charge", -1, 3 * H, item="chat"),
        led("u1", "refund", 1, 3 * H, reason="provider_failed"),
        led("u2", "charge", -4, 5 * H, item="image"),
        led("u2", "refund", 4, 5 * H, reason="image_failed:img_b"),
        led("u2", "charge", -1, 6 * H, item="image_describe"),
        led("u3", "charge", -1, 25 * H, item="chat"),            # outside 24 h
        led("u1", "purchase", 500, 2 * D),
        led("u2", "purchase", 100, 40 * D),                      # outside 30 d
        led("u3", "reversal", -100, 3 * D, reason="paypal refund"),
        led("u1", "admin_adjustment", 10, 1 * H, admin_id="usr_admin"),
        led("u1", "grant", 25, 2 * H, reason="signup"),
    ])

    def img(user: str, status: str, age: timedelta) -> dict:
        return {"_id": new_id("img"), "user_id": u[user], "status": status, "kind": "generate", "prompt": "p",
                "width": 1024, "height": 1024, "created_at": now - age, "updated_at": now - age}

    await db["images"].insert_many([img("u2", "completed", 5 * H), img("u2", "failed", 5 * H),
                                    img("u3", "failed", 2 * H), img("u3", "failed", 3 * D)])
    await db["conversations"].insert_many([
        {"_id": new_id("cnv"), "owner_id": u["u4"], "title": "t", "created_at": now - H,
         "updated_at": now - H},
        {"_id": new_id("cnv"), "owner_id": u["u2"], "title": "t", "created_at": now - 2 * D,
         "updated_at": now - 2 * D}])

    def pay(status: str, amount: str, age: timedelta | None, refunds: list[str] = ()) -> dict:
        return {"_id": new_id("pay"), "user_id": u["u1"], "pack": "credits_500", "credits": 500,
                "amount": amount, "currency": "USD", "status": status,
                "captured_amount": amount if age else None, "captured_currency": "USD" if age else None,
                "refunds": [{"id": new_id("rf"), "amount": r, "currency": "USD", "credits": 1, "at": now}
                            for r in refunds],
                "created_at": now - (age or H), "updated_at": now, "completed_at": now - age if age else None}

    await db["payments"].insert_many([
        pay("COMPLETED", "19.99", 2 * D), pay("PARTIALLY_REFUNDED", "69.99", 10 * D, ["10.00"]),
        pay("COMPLETED", "4.99", 40 * D), pay("CREATED", "4.99", None),
        pay("REFUNDED", "4.99", 3 * D, ["4.99"])])
    return u


async def test_stats_match_the_seeded_data_exactly(app, client, container):
    headers = await auth_headers(app, "stats_admin", role="ADMIN")  # the 5th user, created now
    await _seed(container.platform.database.db)
    threshold = container.settings.breaker_failure_threshold
    for _ in range(threshold):
        await container.platform.breaker.record_failure("gemini")
    for _ in range(2):
        await container.platform.breaker.record_success("openai")
    await client.patch("/api/v1/admin/settings", headers=headers, json={"providers": {"openai": False}})

    response = await client.get("/api/v1/admin/stats", headers=headers)
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["users"] == {"total": 5, "new_24h": 3, "active_24h": 4}
    assert body["generations"] == {"chat_24h": 2, "images_24h": 3, "videos_24h": 0, "describe_24h": 1,
                                   "failed_24h": 3}
    assert body["credits"] == {"spent_24h": 2, "purchased_30d": 500, "reversed_30d": 100}
    assert body["revenue_30d"] == {
        "USD": {"gross": "94.97", "refunded": "14.99", "net": "79.98", "payments": 3}}
    providers = body["providers"]
    assert providers["gemini"] == {"enabled": True, "kinds": ["chat"], "calls": threshold,
                                   "failures": threshold, "state": "open", "consecutive_failures": threshold}
    assert providers["openai"] == {"enabled": False, "kinds": ["chat", "image"], "calls": 2, "failures": 0,
                                   "state": "closed", "consecutive_failures": 0}
    assert providers["replicate"]["enabled"] is True and providers["replicate"]["calls"] == 0
    assert body["generated_at"].endswith("Z")


async def test_stats_of_an_empty_system(app, client):
    headers = await auth_headers(app, "stats_admin", role="ADMIN")
    body = await (await client.get("/api/v1/admin/stats", headers=headers)).get_json()
    assert body["users"] == {"total": 1, "new_24h": 1, "active_24h": 0}
    assert body["generations"] == {"chat_24h": 0, "images_24h": 0, "videos_24h": 0, "describe_24h": 0,
                                   "failed_24h": 0}
    assert body["credits"] == {"spent_24h": 0, "purchased_30d": 0, "reversed_30d": 0}
    assert body["revenue_30d"] == {"USD": {"gross": "0.00", "refunded": "0.00", "net": "0.00", "payments": 0}}


async def test_user_detail_lists_recent_generations_newest_first(app, client, container):
    headers = await auth_headers(app, "stats_admin", role="ADMIN")
    db = container.platform.database.db
    u = await _seed(db)
    conversation = await db["conversations"].find_one({"owner_id": u["u4"]})
    now = utcnow()
    old_id = new_id("msg")
    await asyncio.sleep(0.003)  # ids order by millisecond
    new_msg = new_id("msg")
    await db["messages"].insert_many([
        {"_id": old_id, "conversation_id": conversation["_id"], "position": 1, "role": "assistant",
         "content": "a", "provider": "gemini", "model": "g", "created_at": now},
        {"_id": new_id("msg"), "conversation_id": conversation["_id"], "position": 0, "role": "user",
         "content": "q", "created_at": now},
        {"_id": new_msg, "conversation_id": conversation["_id"], "position": 3, "role": "assistant",
         "content": "b", "provider": "openai", "model": "o", "created_at": now}])
    body = await (await client.get(f"/api/v1/admin/users/{u['u4']}", headers=headers)).get_json()
    assert [(g["type"], g["id"]) for g in body["generations"]] == [("chat", new_msg), ("chat", old_id)]
    assert body["generations"][0]["provider"] == "openai" and body["disabled"] is True
    images = await (await client.get(f"/api/v1/admin/users/{u['u3']}", headers=headers)).get_json()
    assert [g["status"] for g in images["generations"]] == ["failed", "failed"]
    assert [e["kind"] for e in images["ledger"]] == ["charge", "reversal"]


async def test_a_disabled_chat_provider_is_skipped_and_shows_disabled(chat_app, fake_gemini, fake_openai):
    client = chat_app.test_client()
    admin = await auth_headers(chat_app, "chat_admin", role="ADMIN")
    user = await auth_headers(chat_app, "chat_user")
    patched = await client.patch("/api/v1/admin/settings", headers=admin,
                                 json={"providers": {"gemini": False}})
    assert patched.status_code == 200
    response = await client.post("/api/v1/chat", headers=user,
                                 json={"messages": [{"role": "user", "content": "Which provider?"}]})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["provider"] == "openai"
    assert fake_gemini.count() == 0 and fake_openai.count() == 1
    stats = await (await client.get("/api/v1/admin/stats", headers=admin)).get_json()
    assert stats["providers"]["gemini"]["enabled"] is False and stats["providers"]["gemini"]["calls"] == 0
    assert stats["providers"]["openai"]["enabled"] is True and stats["providers"]["openai"]["calls"] == 1
    assert stats["generations"]["chat_24h"] == 1

    await client.patch("/api/v1/admin/settings", headers=admin, json={"providers": {"openai": False}})
    response = await client.post("/api/v1/chat", headers=user,
                                 json={"messages": [{"role": "user", "content": "Anyone there?"}]})
    assert response.status_code in (502, 503)  # every provider switched off
    assert fake_gemini.count() == 0 and fake_openai.count() == 1


async def test_a_disabled_image_provider_is_skipped(images_app, fake_replicate, fake_openai_images):
    client, container = images_app.test_client(), images_app.extensions["container"]
    admin = await auth_headers(images_app, "img_admin", role="ADMIN")
    user = await auth_headers(images_app, "img_user")
    patched = await client.patch("/api/v1/admin/settings", headers=admin,
                                 json={"providers": {"replicate": False}})
    assert patched.status_code == 200
    response = await client.post("/api/v1/images", headers=user, json={"prompt": "a quiet harbour"})
    assert response.status_code == 202
    await run_jobs(container)
    done = await (await client.get(response.headers["Location"], headers=user)).get_json()
    assert done["status"] == "completed" and done["provider"] == "openai"
    assert fake_replicate.creates == 0 and fake_openai_images.generations == 1
    stats = await (await client.get("/api/v1/admin/stats", headers=admin)).get_json()
    assert stats["providers"]["replicate"]["enabled"] is False
    assert stats["generations"]["images_24h"] == 1
    kinds = {name: p["kinds"] for name, p in stats["providers"].items()}  # labelled by what each does
    assert kinds["replicate"] == ["image"] and kinds["gemini"] == ["chat"]
    assert kinds["openai"] == ["chat", "image"]
    assert {p["kinds"] == ["image"] for p in stats["image_providers"].values()} == {True}

