"""`python -m app migrate`: PayPal-named stored fields become processor-neutral, once (real MongoDB wire)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pymongo

from app.__main__ import main
from repositories.migrations import migrate
from repositories.payments import BeaniePaymentRepository, BeanieSubscriptionRepository

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _old_shape(db) -> None:
    """Documents and indexes as the PayPal-named code stored them."""
    await db["payments"].insert_one({
        "_id": "pay_old", "user_id": "usr_1", "provider": "paypal", "pack": "credits_100", "credits": 100,
        "amount": "4.99", "currency": "USD", "status": "COMPLETED", "order_id": "ORD-1",
        "capture_id": "CAP-1",
        "credited": True, "refunds": [], "created_at": NOW, "updated_at": NOW})
    await db["subscriptions"].insert_one({
        "_id": "sub_old", "user_id": "usr_1", "plan": "starter", "paypal_plan_id": "P-STARTER",
        "paypal_subscription_id": "I-SUB1", "status": "ACTIVE", "created_at": NOW, "updated_at": NOW})
    await db["payments"].create_index([("order_id", pymongo.ASCENDING)], name="order_id")
    await db["subscriptions"].create_index([("paypal_subscription_id", pymongo.ASCENDING)], name="paypal_id")


async def test_migrate_renames_fields_and_drops_old_indexes_once(container):
    db = container.platform.database.db
    await _old_shape(db)

    first = await migrate(db)
    assert first["payments"]["documents"] == 1 and len(first["payments"]["dropped_indexes"]) == 1
    assert first["subscriptions"]["documents"] == 1 and len(first["subscriptions"]["dropped_indexes"]) == 1
    for collection, old in (("payments", "order_id"), ("subscriptions", "paypal_subscription_id")):
        assert not [i for i in await (await db[collection].list_indexes()).to_list() if old in i["key"]]
    payment = await db["payments"].find_one({"_id": "pay_old"})
    assert (payment["external_id"], payment["external_capture_id"]) == ("ORD-1", "CAP-1")
    assert "order_id" not in payment and "capture_id" not in payment
    sub = await db["subscriptions"].find_one({"_id": "sub_old"})
    assert (sub["provider"], sub["external_plan_id"], sub["external_id"]) == ("paypal", "P-STARTER", "I-SUB1")
    assert "paypal_plan_id" not in sub and "paypal_subscription_id" not in sub

    again = await migrate(db)  # idempotent: nothing left in the old shape
    assert again["payments"] == {"documents": 0, "dropped_indexes": []}
    assert again["subscriptions"] == {"documents": 0, "dropped_indexes": []}

    # The repositories find the migrated records by their neutral external ids.
    assert (await BeaniePaymentRepository().get_by_external_id("paypal", "ORD-1")).id == "pay_old"
    assert (await BeaniePaymentRepository().get_by_external_capture("paypal", "CAP-1")).id == "pay_old"
    assert (await BeanieSubscriptionRepository().get_by_external_id("paypal", "I-SUB1")).id == "sub_old"


def test_migrate_command_is_idempotent(servers, tmp_path, monkeypatch, capsys):
    db = f"t_{uuid.uuid4().hex[:12]}"
    env = {"APP_ENV": "test", "MONGODB_URI": servers["mongodb_uri"], "REDIS_URL": servers["redis_url"],
           "MONGODB_DB": db, "VAR_DIR": str(tmp_path / "var")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client: pymongo.MongoClient = pymongo.MongoClient(servers["mongodb_uri"])
    try:
        client[db]["subscriptions"].insert_one({
            "_id": "sub_cli", "user_id": "usr_2", "plan": "starter", "paypal_plan_id": "P-STARTER",
            "paypal_subscription_id": "I-SUB2", "status": "ACTIVE", "created_at": NOW, "updated_at": NOW})
        assert main(["migrate"]) == 0
        assert json.loads(capsys.readouterr().out)["subscriptions"]["documents"] == 1
        assert main(["migrate"]) == 0
        assert json.loads(capsys.readouterr().out)["subscriptions"]["documents"] == 0
        assert client[db]["subscriptions"].find_one({"_id": "sub_cli"})["external_id"] == "I-SUB2"
    finally:
        client.drop_database(db)
        client.close()
