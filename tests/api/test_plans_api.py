"""GET /api/v1/plans: the public catalogue with contract defaults and configured PayPal plan ids."""

from __future__ import annotations

from app import create_app
from services.platform.catalog import Catalog
from tests.conftest import make_settings


async def test_plans_are_public_and_carry_the_contract_defaults(client):
    response = await client.get("/api/v1/plans")
    body = await response.get_json()
    assert response.status_code == 200
    plans = {p["name"]: p for p in body["plans"]}
    assert {n: (p["daily_credits"], p["role"]) for n, p in plans.items()} == {
        "free": (25, "USER"), "starter": (500, "SUBSCRIBER"), "enterprise": (5000, "SUBSCRIBER")}
    assert {t["name"]: (t["credits"], t["days"]) for t in body["gift_tiers"]} == {
        "gift_999": (999, 30), "gift_1499": (1499, 60)}
    packs = {p["name"]: p for p in body["credit_packs"]}
    assert set(packs) == {"credits_100", "credits_500", "credits_2000"}
    assert packs["credits_500"]["credits"] == 500 and packs["credits_500"]["currency"] == "USD"
    assert body["prices"] == {"chat": 1, "chat_image": 1, "image": 1, "image_edit": 2, "image_describe": 1,
                              "video_per_second": 10, "embedding_per_1k": 1}


async def test_catalogue_sections_and_paypal_plan_ids_are_configurable(servers, tmp_path):
    settings = make_settings(servers, tmp_path, paypal_plan_ids="starter=P-1,enterprise:P-2",
                             catalog_json='{"prices": {"chat": 2, "image": 3, "image_edit": 4, '
                                          '"image_describe": 1}}')
    catalog = Catalog.default(settings)
    assert settings.paypal_plan_map == {"starter": "P-1", "enterprise": "P-2"}  # the PayPal adapter's mapping
    assert catalog.price("image", 4) == 12
    assert catalog.plan("nope").name == "free"
    application = create_app(settings)
    async with application.test_app():
        body = await (await application.test_client().get("/api/v1/plans")).get_json()
        container = application.extensions["container"]
        await container.platform.database.client.drop_database(container.settings.mongodb_db)
    assert body["prices"]["chat"] == 2
    assert {p["name"]: p["paypal_plan_id"] for p in body["plans"]}["starter"] == "P-1"
