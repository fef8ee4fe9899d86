"""`make soak` (issue 27 item 8; not in CI): mixed traffic at a steady rate on `make run`'s stack.

The stack is `make run`'s: one `python -m app serve` in development mode with its worker in the same
process, the embedded MongoDB-wire server (nx-27017) and Redis, the offline `local` chat and image
providers, and Stripe as the payment processor (its wire fake, tests/fakes/stripe.py). For
SOAK_SECONDS (default 600) requests start at a steady SOAK_RATE a second (default 20; open loop: a
slow answer does not slow the schedule) from SOAK_USERS users (default 8), in a fixed mix:

    chat (cache hit: the same question)   chat (uncached: a new question)   chat streamed (SSE)
    POST /api/v1/images (the worker renders it)   GET /api/v1/me
    a credit pack bought with Stripe: checkout, paid at the fake, its signed webhooks delivered

Every SOAK_INTERVAL_S (default 30) a row: the server's RSS and open file descriptors (its process
tree, from /proc), the TCP connections open to MongoDB and to Redis (from /proc/net/tcp, every
local process: the server and its worker hold them), Redis's own `connected_clients`, requests
sent and answered, errors so far, and the host's 1-minute load average (the machine may be
shared: a latency spike reads differently at load 9 on 2 cores). At the end: errors by kind, image
jobs by final status, and for every user, once the image jobs are done (up to 300 s) and the server
has drained and stopped, the credits audit (at rest, the balance = the sum of the ledger's balance
deltas). Exit status 1 on any error or a ledger that does not match.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import socket
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_servers, running_container, spawn, stop_processes, wait_http  # noqa: E402
from tests.fakes.stripe import PRICE_IDS, SECRET_KEY, WEBHOOK_SECRET, FakeStripe  # noqa: E402

SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
RATE = float(os.environ.get("SOAK_RATE", "20"))
INTERVAL = float(os.environ.get("SOAK_INTERVAL_S", "30"))
USERS = int(os.environ.get("SOAK_USERS", "8"))
LOG = Path(__file__).resolve().parent.parent / "var" / "soak-server.log"
IN_FLIGHT = 128  # at most this many requests at once; a start beyond it counts as `overloaded`
# the mix, in the order it repeats (20 starts): chat 9 (4 cached, 3 new, 2 streamed), /me 6,
# images 3, payments 2
MIX = ["chat_cached", "me", "chat_new", "image", "chat_stream", "me", "chat_cached", "payment", "chat_new",
       "me", "chat_cached", "image", "chat_stream", "me", "chat_new", "me", "chat_cached", "image", "me",
       "payment"]


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def open_fds(pids: list[int]) -> int:
    count = 0
    for pid in pids:
        try:
            count += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
    return count


def connections_to(port: int) -> int:
    """ESTABLISHED TCP connections whose remote end is 127.0.0.1:`port` (the client side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            remote, state = parts[2], parts[3]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def redis_clients(port: int) -> int:
    """Redis's own `connected_clients` (INFO clients), this probe's connection included."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"INFO clients\r\n")
        data = b""
        while b"connected_clients:" not in data or not data.endswith(b"\r\n"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    line = next(x for x in data.decode().splitlines() if x.startswith("connected_clients:"))
    return int(line.split(":")[1])


class Soak:
    def __init__(self, base: str, tokens: list[str], stripe: FakeStripe) -> None:
        self.base, self.stripe = base, stripe
        self.headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
        self.sent = 0
        self.done = 0
        self.errors: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.images: list[tuple[int, str]] = []
        self.bought = 0
        self.in_flight = 0
        self.tasks: set[asyncio.Task] = set()

    async def one(self, session: aiohttp.ClientSession, kind: str, i: int) -> None:
        user = i % len(self.headers)
        headers = self.headers[user]
        url = self.base
        try:
            if kind == "me":
                async with session.get(f"{url}/api/v1/me", headers=headers) as r:
                    self._check(kind, r.status, 200, await r.read())
            elif kind.startswith("chat"):
                question = ("What is a lighthouse?" if kind == "chat_cached"
                            else f"Question {uuid.uuid4().hex}")
                body = {"messages": [{"role": "user", "content": question}], "store": False,
                        "stream": kind == "chat_stream"}
                async with session.post(f"{url}/api/v1/chat", headers=headers, json=body) as r:
                    text = await r.text()
                    self._check(kind, r.status, 200, text)
                    if kind == "chat_stream" and r.status == 200 and "event: done" not in text:
                        self.errors[f"{kind}: stream without done"] += 1
            elif kind == "image":
                async with session.post(f"{url}/api/v1/images", headers=headers,
                                        json={"prompt": f"a lighthouse {i}"}) as r:
                    answer = await r.json(content_type=None)
                    if self._check(kind, r.status, 202, answer):
                        self.images.append((user, answer["id"]))
            elif kind == "payment":
                async with session.post(f"{url}/api/v1/payments/checkout", headers=headers,
                                        json={"pack": "credits_100", "provider": "stripe"}) as r:
                    order = await r.json(content_type=None)
                    if not self._check(kind, r.status, 201, order):
                        return
                self.stripe.pay(self.stripe.session_for(order["payment_id"])["id"])
                for body, hook_headers in self.stripe.deliveries():
                    async with session.post(f"{url}/api/v1/webhooks/stripe", data=body,
                                            headers=hook_headers) as r:
                        self._check("payment webhook", r.status, 200, await r.read())
                self.bought += 1
        except (TimeoutError, aiohttp.ClientError, KeyError, ValueError) as error:
            self.errors[f"{kind}: {type(error).__name__}"] += 1
        finally:
            self.done += 1
            self.in_flight -= 1

    def _check(self, kind: str, status: int, expected: int, body: Any) -> bool:
        """Count the answer; an unexpected status is an error, named by its problem `code`."""
        self.kinds[kind] += 1
        if status == expected:
            return True
        if isinstance(body, bytes | str):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        code = body.get("code") if isinstance(body, dict) else None
        self.errors[f"{kind}: HTTP {status}" + (f" {code}" if code else "")] += 1
        return False

    async def run(self, session: aiohttp.ClientSession, seconds: float) -> None:
        """Start one request every 1/RATE s for `seconds` (a start is never skipped for a slow answer)."""
        began = time.monotonic()
        for i in itertools.count():
            at = began + i / RATE
            if at - began >= seconds:
                break
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            if self.in_flight >= IN_FLIGHT:
                self.errors["overloaded (in flight at the limit)"] += 1
                continue
            self.sent += 1
            self.in_flight += 1
            task = asyncio.create_task(self.one(session, MIX[i % len(MIX)], i))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=60)


async def sample_every(soak: Soak, pid: int, ports: dict[str, int], began: float, rows: list[dict],
                       stop: asyncio.Event) -> None:
    header = (f"{'t (s)':>6} {'RSS MB':>8} {'fds':>5} {'mongo conns':>12} {'redis conns':>12} "
              f"{'redis clients':>14} {'sent':>7} {'answered':>9} {'errors':>7} {'load 1m':>8}")
    print(header, flush=True)
    final = False
    while True:
        pids = tree(pid)
        row = {"t": round(time.monotonic() - began), "rss_mb": round(rss_mb(pids), 1), "fds": open_fds(pids),
               "mongo": connections_to(ports["mongo"]), "redis": connections_to(ports["redis"]),
               "redis_clients": redis_clients(ports["redis"]) - 1, "sent": soak.sent, "answered": soak.done,
               "errors": sum(soak.errors.values()), "load": round(os.getloadavg()[0], 2)}
        rows.append(row)
        print(f"{row['t']:>6} {row['rss_mb']:>8} {row['fds']:>5} {row['mongo']:>12} {row['redis']:>12} "
              f"{row['redis_clients']:>14} {row['sent']:>7} {row['answered']:>9} {row['errors']:>7} "
              f"{row['load']:>8}",
              flush=True)
        if final:
            return
        try:
            async with asyncio.timeout(INTERVAL):
                await stop.wait()
            final = True  # the run is over: one last row, at its end
        except TimeoutError:
            pass


async def image_statuses(session: aiohttp.ClientSession, soak: Soak) -> Counter[str]:
    """Final status of every image job the soak started (waiting up to 300 s for the queue to drain)."""
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + 300
    pending = list(soak.images)
    while pending:
        left = []
        for user, image_id in pending:
            async with session.get(f"{soak.base}/api/v1/images/{image_id}", headers=soak.headers[user]) as r:
                status = (await r.json(content_type=None)).get("status", f"HTTP {r.status}")
            if status in ("queued", "in_progress") and time.monotonic() < deadline:
                left.append((user, image_id))
            else:
                statuses[status] += 1
        pending = left
        if pending:
            await asyncio.sleep(1)
    return statuses


async def main() -> int:
    with bench_servers("muse-soak-") as servers, FakeStripe() as stripe:
        env = servers.env(
            APP_ENV="development", WORKER_IN_PROCESS="true", CHAT_PROVIDERS="local", IMAGE_PROVIDERS="local",
            VIDEO_PROVIDERS="local", PAYMENT_PROVIDERS="stripe", STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_BASE_URL=stripe.url, STRIPE_TIMEOUT_S="10",
            STRIPE_PRICE_IDS=",".join(f"{plan}={price}" for plan, price in PRICE_IDS.items()),
            AUTH_PROVIDER="clerk", LOG_LEVEL="WARNING")
        port = int(env.get("SOAK_PORT") or _free_port())
        base = f"http://127.0.0.1:{port}"
        env.update(PUBLIC_BASE_URL=base, CHECKOUT_SUCCESS_URL=f"{base}/checkout/success",
                   CHECKOUT_CANCEL_URL=f"{base}/checkout/cancel")
        migrate = spawn(["migrate"], env)
        migrate.wait(120)
        LOG.parent.mkdir(parents=True, exist_ok=True)
        server_log = LOG.open("wb")  # the server's log lines (WARNING and above), read at the end
        server = spawn(["serve", "--port", str(port)], env, output=server_log)
        try:
            await wait_http(base + "/health/live")
            clerk_ids = [f"soak_{n}" for n in range(USERS)]
            async with running_container(servers.settings()) as container:
                for clerk_id in clerk_ids:  # enough balance for every charge of the run
                    user = await container.identity.users.ensure_clerk_user(clerk_id)
                    await container.credits.service.grant(user.id, 100_000, ref=f"soak-{uuid.uuid4().hex}",
                                                  reason="soak", request_id=None)
            ports = {"mongo": servers.mongo.port, "redis": servers.redis.port}
            soak = Soak(base, [servers.token(c) for c in clerk_ids], stripe)
            print(f"soak: {SECONDS:.0f} s at {RATE:g} requests/s from {USERS} users, a row every "
                  f"{INTERVAL:g} s (server pid {server.pid}, MongoDB :{ports['mongo']}, "
                  f"Redis :{ports['redis']})", flush=True)
            rows: list[dict] = []
            stop = asyncio.Event()
            began = time.monotonic()
            timeout = aiohttp.ClientTimeout(total=60)
            async with aiohttp.ClientSession(timeout=timeout,
                                             connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as session:
                sampler = asyncio.create_task(sample_every(soak, server.pid, ports, began, rows, stop))
                await soak.run(session, SECONDS)
                stop.set()
                await sampler
                images = await image_statuses(session, soak)
            exited = server.poll()
            stop_processes([server])  # at rest: the server drains (SIGTERM) before the ledger is read
            audits = []
            async with running_container(servers.settings()) as container:
                for clerk_id in clerk_ids:
                    user = await container.identity.users.get_by_clerk_id(clerk_id)
                    audits.append(await container.credits.service.audit(user.id))
            server_log.close()
            return report(soak, rows, images, audits, exited, server_events(LOG))
        finally:
            stop_processes([server])
            server_log.close()


def server_events(path: Path) -> Counter[str]:
    """The server's warnings and errors by event (and the store or error they name)."""
    events: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            events["(not a JSON line)"] += 1
            continue
        if not isinstance(entry, dict):
            continue
        # arq's own lines: "  1.91s ! img_…:generate_image failed, ExecutionTimeout: …"
        failed = re.search(r":(\w+) failed, (\w+)", str(entry.get("event")))
        if failed:
            events[f"{entry.get('level')} arq: {failed[1]} failed ({failed[2]})"] += 1
        elif entry.get("level") in ("warning", "error", "critical"):
            named = " ".join(f"{k}={entry[k]}" for k in ("store", "error", "job_type") if k in entry)
            events[f"{entry['level']} {entry.get('event')}" + (f" ({named})" if named else "")] += 1
    return events


def report(soak: Soak, rows: list[dict], images: Counter[str], audits: list[dict], exited: int | None,
           events: Counter[str] | None = None) -> int:
    first, last = rows[0], rows[-1]
    print(f"\nrequests: {soak.sent} sent, {soak.done} answered; by kind {dict(sorted(soak.kinds.items()))}")
    print(f"credit packs bought through Stripe webhooks: {soak.bought}")
    print(f"image jobs: {dict(images)}")
    print(f"RSS: {first['rss_mb']} MB at start, {last['rss_mb']} MB at the end "
          f"(max {max(r['rss_mb'] for r in rows)}); fds: {first['fds']} → {last['fds']} "
          f"(max {max(r['fds'] for r in rows)}); MongoDB connections {first['mongo']} → {last['mongo']}; "
          f"Redis connections {first['redis']} → {last['redis']}")
    if "load" in first:
        print(f"load average (1 min): {first['load']} at start, {last['load']} at the end "
              f"(max {max(r['load'] for r in rows)}; {os.cpu_count()} cores)")
    errors = sum(soak.errors.values()) + sum(n for s, n in images.items() if s != "completed")
    print(f"errors: {errors}" + (f" {dict(soak.errors)}" if soak.errors else ""))
    bad = [a for a in audits if not a["ok"]]
    print(f"ledger = balance: {'ok' if not bad else 'MISMATCH'} for {len(audits) - len(bad)} of "
          f"{len(audits)} users"
          + (f" {json.dumps(bad)}" if bad else ""))
    if events:
        print(f"server warnings and errors ({LOG}): {dict(events.most_common())}")
    if exited is not None:
        print(f"the server exited during the soak (status {exited})")
    return 1 if errors or bad or exited is not None else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
