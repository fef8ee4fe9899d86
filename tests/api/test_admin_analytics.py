"""GET /api/v1/admin/analytics (contract §19): revenue (captured payments less refunds, both
processors), provider cost from the price table, margin, credits and active users per day, by plan
and by model, and the top users by cost; ADMIN only; periods checked."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.platform.clock import utcnow
from services.platform.ids import new_id
from tests.api.test_metrics import started
from tests.fixtures.chat import chat_settings
from tests.fixtures.identity import auth_headers

# a Gemini token in: one micro-dollar; out: 100 000 (so a five-word answer costs $0.50)
PRICES = {"gemini-2.5-flash": {"input_per_1m": 1, "output_per_1m": 100_000}}


def _payment(user_id: str, amount: str, *, provider: str, currency: str = "USD", refunds=(), at=None) -> dict:
    now = at or utcnow()
    return {"_id": new_id("pay"), "user_id": user_id, "provider": provider, "pack": "credits_500",
            "credits": 500, "amount": amount, "currency": currency,
            "status": "PARTIALLY_REFUNDED" if refunds else "COMPLETED",
            "captured_amount": amount, "captured_currency": currency,
            "refunds": [{"id": new_id("rf"), "amount": r, "currency": currency, "credits": 1, "at": now}
                        for r in refunds],
            "created_at": now, "updated_at": now, "completed_at": now}


async def test_analytics_add_up_payments_costs_and_usage(servers, tmp_path, fake_gemini, fake_openai):
    s = chat_settings(servers, tmp_path, fake_gemini, fake_openai, provider_prices=PRICES, ai_timeout_s=15.0)
    async with started(s) as app:
        container = app.extensions["container"]
        client = app.test_client()
        admin = await auth_headers(app, "analytics_admin", role="ADMIN")
        heavy = await auth_headers(app, f"heavy_{uuid.uuid4().hex[:6]}")
        light = await auth_headers(app, f"light_{uuid.uuid4().hex[:6]}")
        ids = {}
        for name, headers in (("heavy", heavy), ("light", light)):
            ids[name] = (await (await client.get("/api/v1/me", headers=headers)).get_json())["id"]

        fake_gemini.reply = "one two three four five"  # 5 tokens out: $0.50
        for text in ("a", "b"):
            assert (await client.post("/api/v1/chat", json={"messages": [{"role": "user", "content": text}]},
                                      headers=heavy)).status_code == 200
        fake_gemini.reply = "one"  # $0.10
        assert (await client.post("/api/v1/chat", json={"messages": [{"role": "user", "content": "c"}]},
                                  headers=light)).status_code == 200
        db = container.platform.database.db
        await db["payments"].insert_many([
            _payment(ids["heavy"], "10.00", provider="paypal", refunds=["2.50"]),
            _payment(ids["light"], "4.99", provider="stripe"),
            _payment(ids["light"], "9.00", provider="stripe", currency="EUR"),
            _payment(ids["light"], "100.00", provider="paypal", at=utcnow() - timedelta(days=40))])

        today = utcnow().date().isoformat()
        response = await client.get("/api/v1/admin/analytics", headers=admin)
        body = await response.get_json()
        assert response.status_code == 200, body
        assert body["to"] == today and len(body["days"]) == 30 and body["other_currency_payments"] == 1
        day = body["days"][-1]
        cost = 2 * (0.5 + 0.000001) + (0.1 + 0.000001)  # one prompt token each
        assert day["date"] == today
        assert day["revenue_usd"] == 10.00 - 2.50 + 4.99 and day["refunds_usd"] == 2.50
        assert abs(day["provider_cost_usd"] - cost) < 1e-9
        assert abs(day["margin_usd"] - (12.49 - cost)) < 1e-9
        assert day["credits_spent"] == 3 and day["active_users"] == 2
        assert all(d["revenue_usd"] == 0 and d["active_users"] == 0 for d in body["days"][:-1])
        assert body["totals"]["credits_spent"] == 3 and body["totals"]["revenue_usd"] == 12.49

        (free,) = body["by_plan"]
        assert free["plan"] == "free" and free["credits_spent"] == 3 and free["revenue_usd"] == 12.49
        (default,) = body["by_model"]
        assert default["model"] == "default" and default["requests"] == 3 and default["tokens_out"] == 11
        assert abs(default["margin_usd"] - (12.49 - cost)) < 1e-9  # the period's revenue, shared by credits
        top = body["top_users_by_cost"]
        assert [u["user_id"] for u in top] == [ids["heavy"], ids["light"]]
        assert top[0]["credits_spent"] == 2 and abs(top[0]["provider_cost_usd"] - 1.000002) < 1e-9

        # the 40-days-old payment counts in a period that holds its day
        old = (utcnow() - timedelta(days=40)).date()
        back = await (await client.get(f"/api/v1/admin/analytics?from={old}&to={old}",
                                       headers=admin)).get_json()
        assert [d["revenue_usd"] for d in back["days"]] == [100.0]

        assert (await client.get("/api/v1/admin/analytics", headers=heavy)).status_code == 403
        for query in ("from=2025-01-01&to=2026-01-03", "from=2026-02-01&to=2026-01-01", "from=soon", "x=1"):
            answer = await client.get(f"/api/v1/admin/analytics?{query}", headers=admin)
            assert answer.status_code == 422, query
