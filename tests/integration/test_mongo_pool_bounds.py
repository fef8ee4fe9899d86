"""The MongoDB connection pool stays bounded and shrinks back after a burst (issue 27, `make soak`).

The soak's MongoDB connections (2 → 72 over ten minutes) and open fds (17 → 218) grew at each latency
spike and never came back: PyMongo's pool opens one connection per operation in flight (up to
`maxPoolSize`, 100 by default) and, without `maxIdleTimeMS`, keeps every one of them for the life of
the process. Here: a burst of concurrent requests that each read MongoDB, counted as this process's
ESTABLISHED TCP connections to the test's MongoDB port (/proc), during and after the burst."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers

BURST = 40


def _own_connections_to(port: int) -> int:
    """This process's ESTABLISHED TCP connections whose remote end is `port`."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] == "01" and parts[9] in inodes and int(parts[2].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


async def test_a_burst_of_requests_does_not_grow_the_pool_past_its_bound_and_idle_ones_close(
        servers, tmp_path):
    port = urlparse(servers["mongodb_uri"]).port
    settings = make_settings(servers, tmp_path, chat_providers=["local"], mongodb_max_pool_size=8,
                             mongodb_max_idle_s=1.0)
    async with app_instances(settings, 1) as (app,):
        client = app.test_client()
        headers = await auth_headers(app, "user_pool")
        assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 200
        before = _own_connections_to(port)
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, _own_connections_to(port))
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        codes: set[int] = set()
        for _ in range(3):  # three spikes, as the soak's latency spikes
            answers = await asyncio.gather(*(client.get("/api/v1/conversations", headers=headers)
                                             for _ in range(BURST)))
            codes |= {a.status_code for a in answers}
        watcher.cancel()
        # the pool's connections plus PyMongo's monitor and RTT connections (this app and the test's
        # own helpers): bounded by MONGODB_MAX_POOL_SIZE, however many requests were in flight
        assert peak - before <= 8, (before, peak)
        deadline = time.monotonic() + 10
        after = _own_connections_to(port)
        for _ in range(50):  # PyMongo prunes idle connections in its periodic task
            if after <= before or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
            after = _own_connections_to(port)
        print(f"MongoDB connections: {before} before, {peak} at the peak, {after} idle after; {codes}")
        assert codes <= {200, 503}  # 503: no connection within MONGODB_TIMEOUT_S on a saturated host
        assert after <= before, (before, peak, after)  # idle connections closed after MONGODB_MAX_IDLE_S
