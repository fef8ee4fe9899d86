"""The Redis connection pool stays bounded and shrinks back after a burst (issue 27, `make soak`).

redis-py's asyncio pool opens one connection per command in flight and keeps every one it ever
opened for the life of the process (`make soak`: 2 → 24 Redis connections in ten minutes, 2 → 18 in
a 60 s run on a busy host). Counted here as Redis sees them: `CLIENT LIST`, by the client name the
pool's connections carry (a `client_name` in the URL, as a deployment may give), from a separate
probe connection."""

from __future__ import annotations

import asyncio
import time
import uuid

import redis as redis_sync

from repositories.redis_client import connect_redis
from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers


def _named(url: str) -> tuple[str, str]:
    name = f"pool-{uuid.uuid4().hex[:10]}"
    return name, f"{url}{'&' if '?' in url else '?'}client_name={name}"


def _clients_named(probe: redis_sync.Redis, name: str) -> int:
    return sum(1 for client in probe.client_list() if client.get("name") == name)


class _Peak:
    """The most connections named `name` seen while the `async with` body ran, polled every `every_s`."""

    def __init__(self, probe: redis_sync.Redis, name: str, every_s: float) -> None:
        self._probe, self._name, self._every_s = probe, name, every_s
        self.most = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            self.most = max(self.most, await asyncio.to_thread(_clients_named, self._probe, self._name))
            await asyncio.sleep(self._every_s)

    async def __aenter__(self) -> _Peak:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _count_falls_to(probe: redis_sync.Redis, name: str, target: int, within_s: float) -> int:
    """The connection count once it is at most `target`, or the last count after `within_s`."""
    deadline = time.monotonic() + within_s
    count = await asyncio.to_thread(_clients_named, probe, name)
    while count > target and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        count = await asyncio.to_thread(_clients_named, probe, name)
    return count


async def test_a_burst_opens_at_most_max_connections_and_idle_ones_are_closed(servers):
    name, url = _named(servers["redis_url"])
    probe = redis_sync.Redis.from_url(servers["redis_url"])
    client = connect_redis(url, timeout_s=10.0, max_connections=6, max_idle_s=1.0)
    try:
        key = f"pool-test:{uuid.uuid4().hex}"
        async with _Peak(probe, name, every_s=0.05) as seen:
            # 24 commands each holding their connection 0.3 s (BLPOP on an empty list), all at once
            answers = await asyncio.gather(*(client.blpop([key], timeout=0.3) for _ in range(24)))
            after_burst = await asyncio.to_thread(_clients_named, probe, name)
        peak = seen.most
        assert answers == [None] * 24  # every command was answered (the 19th waited for a released one)
        assert 2 <= max(peak, after_burst) <= 6, (peak, after_burst)  # several opened, never past the bound
        assert after_burst >= 2, after_burst  # kept while not idle long enough (a pool, not one per command)

        left = await _count_falls_to(probe, name, 0, within_s=15)
        assert left == 0, left  # idle for REDIS_MAX_IDLE_S: closed (redis-py alone keeps them all)
        assert await client.ping() is True  # the pool opens a connection again when one is needed
        assert await asyncio.to_thread(_clients_named, probe, name) == 1
    finally:
        await client.aclose()
        probe.close()
    assert await _count_falls_to(probe, name, 0, within_s=5) == 0  # aclose closes them all


async def test_the_app_pool_is_bounded_by_its_settings_and_prunes_after_a_burst_of_requests(
        servers, tmp_path):
    name, url = _named(servers["redis_url"])
    probe = redis_sync.Redis.from_url(servers["redis_url"])
    settings = make_settings(servers, tmp_path, chat_providers=["local"], redis_url=url,
                             rate_limits_enabled=True,  # Redis on every request; a bucket never empty
                             rate_limit_plans={"free": (100_000, 1000.0)},
                             redis_max_connections=6, redis_max_idle_s=1.0)
    try:
        async with app_instances(settings, 1) as (app,):
            client = app.test_client()
            headers = await auth_headers(app, "user_redis_pool")
            assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
            before = await _count_falls_to(probe, name, 3, within_s=5)  # its two subscribers and a spare
            codes: set[int] = set()
            async with _Peak(probe, name, every_s=0.02) as seen:
                for _ in range(3):  # three spikes of requests that each use Redis (rate limits, caches)
                    answers = await asyncio.gather(*(client.get("/api/v1/me", headers=headers)
                                                     for _ in range(40)))
                    codes |= {a.status_code for a in answers}
            peak = seen.most
            assert codes == {200}, codes
            assert peak <= 6, (before, peak)  # REDIS_MAX_CONNECTIONS, however many requests were in flight
            after = await _count_falls_to(probe, name, before, within_s=15)
            print(f"Redis connections: {before} before, {peak} at the peak, {after} idle after")
            assert after <= before, (before, peak, after)  # idle ones closed after REDIS_MAX_IDLE_S
    finally:
        probe.close()
