"""A dependency going down turns /health into 503 `degraded`."""

from __future__ import annotations

from app import create_app
from app.embedded import start_redis


async def test_stopping_redis_makes_health_degraded(settings, tmp_path):
    own_redis = start_redis(tmp_path / "redis-outage", persist=False)
    try:
        app = create_app(settings.model_copy(update={"redis_url": own_redis.url}))
        async with app.test_app():
            client = app.test_client()
            assert (await client.get("/health")).status_code == 200

            own_redis.kill()
            response = await client.get("/health")
            body = await response.get_json()
            await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    finally:
        own_redis.stop()

    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] != "ok"
    assert body["checks"]["mongo"]["status"] == "ok"
