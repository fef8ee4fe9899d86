"""GET /api/v1/usage (contract §19): grouped rows and totals from the rollup, CSV, limits."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

from services.platform.clock import utcnow
from services.platform.errors import UpstreamError
from tests.fixtures.identity import auth_headers


def _chat(**fields) -> dict:
    return {"messages": [{"role": "user", "content": f"hi {uuid.uuid4().hex}"}], **fields}


async def test_usage_by_day_kind_model_and_key_net_of_refunds(app, client, container):
    headers = await auth_headers(app, "user_usage")
    key = await (await client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers)).get_json()
    for _ in range(2):
        assert (await client.post("/api/v1/chat", json=_chat(), headers=headers)).status_code == 200
    assert (await client.post("/api/v1/chat", json=_chat(), headers={"Authorization": f"Bearer {key['key']}"})
            ).status_code == 200
    image = await client.post("/api/v1/images", json={"prompt": "a fox", "num_outputs": 2}, headers=headers)
    assert image.status_code == 202
    # the image job fails: its charge is refunded, and usage is net of it
    user = await container.identity.users.get_by_clerk_id("user_usage")
    record = await container.media.images.get(user.id, (await image.get_json())["id"])
    assert await container.media.image_jobs.fail(record, UpstreamError("provider down"))

    today = utcnow().date().isoformat()
    body = await (await client.get("/api/v1/usage", headers=headers)).get_json()
    assert body["group_by"] == "day" and body["to"] == today
    assert body["from"] == (utcnow().date() - timedelta(days=29)).isoformat()
    tokens = {k: body["totals"].pop(k) for k in ("tokens_in", "tokens_out")}
    assert body["totals"] == {"requests": 4, "credits": 3, "refunded_credits": 2, "images": 2,
                              "video_seconds": 0}
    assert tokens["tokens_in"] > 0 and tokens["tokens_out"] > 0  # the local provider's estimates
    assert [row["key"] for row in body["rows"]] == [today]

    kinds = await (await client.get("/api/v1/usage?group_by=kind", headers=headers)).get_json()
    assert {r["key"]: (r["requests"], r["credits"], r["refunded_credits"]) for r in kinds["rows"]} == \
        {"chat": (3, 3, 0), "image": (1, 0, 2)}
    by_key = await (await client.get("/api/v1/usage?group_by=api_key", headers=headers)).get_json()
    assert {r["key"]: r["credits"] for r in by_key["rows"]} == {None: 2, key["id"]: 1}
    models = await (await client.get("/api/v1/usage?group_by=model", headers=headers)).get_json()
    assert {r["key"] for r in models["rows"]} == {"default"}

    response = await client.get("/api/v1/usage?group_by=kind", headers={**headers, "Accept": "text/csv"})
    assert response.status_code == 200 and response.content_type.startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.get_data(as_text=True))))
    assert [(r["key"], r["credits"]) for r in rows] == [("chat", "3"), ("image", "0")]

    other = await (await client.get("/api/v1/usage", headers=await auth_headers(app, "user_x"))).get_json()
    assert other["rows"] == [] and other["totals"]["credits"] == 0


async def test_bad_periods_and_fields_are_422(app, client):
    headers = await auth_headers(app, "user_usage_bad")
    for query in ("from=2025-01-01&to=2026-01-02", "from=2026-02-01&to=2026-01-01", "from=yesterday",
                  "group_by=week", "colour=red"):
        response = await client.get(f"/api/v1/usage?{query}", headers=headers)
        assert response.status_code == 422, query
    ok = await client.get("/api/v1/usage?from=2025-01-01&to=2026-01-01", headers=headers)
    assert ok.status_code == 200  # 366 days
