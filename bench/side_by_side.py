"""`make bench`: Muse side by side with a bare Quart hello, its fake upstream and LiteLLM (issue 12).

Starts, each in its own process:
  - a bare Quart hello on Hypercorn (bench/hello_app.py), the reference;
  - a fake OpenAI-style upstream answering after BENCH_DELAY_MS (bench/upstream.py, 50 ms);
  - Muse as `make run` serves it (`python -m app serve`; nx-27017 + Redis; OpenAI as the chat
    provider pointed at the fake upstream). Every rule stays on: auth, rate limits (a bucket
    big enough for the load), credits, ledger, request IDs, access logs (LOG_LEVEL=INFO,
    written to /dev/null);
  - LiteLLM's proxy on the same upstream, when var/bench-litellm holds it (`make bench`
    installs it there; BENCH_LITELLM=0 skips it): otherwise its rows say "not measured".
Drives each scenario with Debian's `wrk` (-t1 -cBENCH_CONNECTIONS, BENCH_SECONDS), in
BENCH_ROUNDS interleaved rounds, and prints medians (req/s, p50, server CPU µs/req: the
user+system CPU of the server's process tree over the run, per completed request), then
each issue-12 target ratio with its min–max across rounds, the streaming time to first
delta, worker RSS after the load and the time from start to the first request served (the first
start, then BENCH_STARTS more once the load is over: median, min–max, and the CPU the process had
used by then; the project's bytecode is compiled first, as `make bytecode` and deployments do).

    .venv/bin/python bench/side_by_side.py
    BENCH_SECONDS=3 BENCH_ROUNDS=1 BENCH_ONLY=hello,me .venv/bin/python bench/side_by_side.py
    BENCH_PORT_BASE=18100   # ports from there instead of free ones
    BENCH_STARTS=5          # extra starts of `python -m app serve` timed after the load (0: none)
    BENCH_PROFILE=/tmp/muse.prof   # Muse under cProfile (figures then not comparable)
    BENCH_BASELINE=/tmp/muse-main  # a checkout of the code before: its Muse runs the Muse scenarios too
                                   # ("before: ..." rows, after/before ratios; same stack, own database)
"""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.embedded import free_port, start_mongo, start_redis  # noqa: E402
from providers.dev_keys import generate_key_pair, mint_token  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DELAY_MS = float(os.environ.get("BENCH_DELAY_MS", "50"))
ONLY = {s for s in os.environ.get("BENCH_ONLY", "").split(",") if s}
TTFD_N = int(os.environ.get("BENCH_TTFD_N", "60"))
STARTS = int(os.environ.get("BENCH_STARTS", "5"))
LITELLM_BIN = ROOT / "var" / "bench-litellm" / "bin" / "litellm"
LITELLM_KEY = "sk-bench-master"
CLK_TCK = os.sysconf("SC_CLK_TCK")
_ports = iter(range(int(os.environ["BENCH_PORT_BASE"]), 65535)) if os.environ.get("BENCH_PORT_BASE") else None


def port() -> int:
    return next(_ports) if _ports is not None else free_port()


# --- processes --------------------------------------------------------------------------------


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` and every descendant still alive."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        children.setdefault(ppid, []).append(int(entry))
        stats[int(entry)] = (utime, stime)
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += sum(stats.get(current, (0, 0)))
        todo.extend(children.get(current, []))
    return total / CLK_TCK


def tree_rss_mb(pid: int) -> float:
    """Resident memory (MB) of `pid` and its descendants."""
    total_kb = 0
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                pids.append(int(entry))
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen
    started_s: float = 0.0  # from spawn to the first answered request

    @property
    def pid(self) -> int:
        return self.process.pid


def spawn(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=cwd, env=env or dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_up(
    url: str, proc: subprocess.Popen, *, limit_s: float, headers: dict[str, str] | None = None
) -> float:
    """Poll `url` every 5 ms until it answers 200; the seconds since now."""
    began = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - began < limit_s:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
            try:
                async with session.get(url, headers=headers) as response:
                    if response.status == 200:
                        return time.perf_counter() - began
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.005)
    raise RuntimeError(f"{url} did not come up in {limit_s} s")


SOURCES = ("app", "controllers", "services", "repositories", "providers", "middlewares")


def compile_bytecode(root: Path) -> None:
    """Compile the project's modules, as `make bytecode` and any deployment do: with
    PYTHONDONTWRITEBYTECODE set, each start would compile them all again (~0.13 s here) and the
    start-up figure would measure that."""
    for name in SOURCES:
        compileall.compile_dir(root / name, quiet=1)


@dataclass
class Start:
    wall_s: float  # spawn → first GET /health/live answered 200
    cpu_s: float  # user + system CPU of the process by then


async def time_starts(env: dict[str, str], n: int) -> list[Start]:
    """Start `python -m app serve` `n` times, one after the other, each until /health/live answers."""
    found: list[Start] = []
    for _ in range(n):
        muse_port = port()
        proc = spawn([sys.executable, "-m", "app", "serve", "--port", str(muse_port)], env)
        try:
            wall = await wait_up(f"http://127.0.0.1:{muse_port}/health/live", proc, limit_s=60)
            found.append(Start(wall, tree_cpu_s(proc.pid)))
        finally:
            stop([proc])
    return found


def stop(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- wrk --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One wrk load: method, URL, headers and body; `{n}` in the body becomes a per-request counter."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None

    def script(self, tag: str) -> str:
        lines = [f'wrk.method = "{self.method}"']
        for name, value in self.headers.items():
            lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
        if self.body is not None and "{n}" in self.body:
            template = self.body.replace("%", "%%").replace("{n}", tag + "-%d")
            lines += [
                "local n = 0",
                "request = function()",
                "  n = n + 1",
                f"  return wrk.format(nil, nil, nil, string.format({json.dumps(template)}, n))",
                "end",
            ]
        elif self.body is not None:
            lines.append(f"wrk.body = {json.dumps(self.body)}")
        return "\n".join(lines) + "\n"


@dataclass
class Figure:
    rps: float
    p50_ms: float
    cpu_us: float
    requests: int
    errors: int


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(load: Load, *, pid: int, connections: int, seconds: float, workdir: Path) -> Figure:
    script = workdir / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(load.script(uuid.uuid4().hex[:10]))
    cpu_before = tree_cpu_s(pid)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            load.url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = tree_cpu_s(pid) - cpu_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    return Figure(rps=rps, p50_ms=p50, cpu_us=cpu / max(requests, 1) * 1e6, requests=requests, errors=errors)


# --- scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    server: str  # key into the servers dict
    load: Load
    connections: int = CONNECTIONS


def chat_body(*, unique: bool, store: bool, stream: bool = False) -> str:
    content = "bench question {n}" if unique else "cached bench question"
    return json.dumps({"messages": [{"role": "user", "content": content}], "store": store, "stream": stream})


def openai_body(*, stream: bool = False) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "bench question {n}"}]}
    if stream:
        body["stream"] = True
    return json.dumps(body)


JSON = {"Content-Type": "application/json"}


def scenarios(bases: dict[str, str], token: str) -> list[Scenario]:
    auth = {"Authorization": f"Bearer {token}"}
    upstream = {**JSON, "Authorization": "Bearer sk-bench"}
    litellm = {**JSON, "Authorization": f"Bearer {LITELLM_KEY}"}
    up, muse, lite = bases["upstream"] + "/v1/chat/completions", bases["muse"], bases.get("litellm", "")
    chat = muse + "/api/v1/chat"
    found = [
        Scenario("hello", "bare Quart hello on Hypercorn", "hello", Load("GET", bases["hello"] + "/")),
        Scenario(
            "upstream",
            f"upstream direct ({DELAY_MS:g} ms)",
            "upstream",
            Load("POST", up, upstream, openai_body()),
        ),
        Scenario("live", "Muse GET /health/live", "muse", Load("GET", muse + "/health/live")),
        Scenario("me", "Muse GET /api/v1/me", "muse", Load("GET", muse + "/api/v1/me", auth)),
        Scenario(
            "hit",
            "Muse chat, cache hit, store=false",
            "muse",
            Load("POST", chat, {**JSON, **auth}, chat_body(unique=False, store=False)),
        ),
        Scenario(
            "hit_stored",
            "Muse chat, cache hit, stored",
            "muse",
            Load("POST", chat, {**JSON, **auth}, chat_body(unique=False, store=True)),
        ),
        Scenario(
            "uncached",
            f"Muse chat, uncached ({DELAY_MS:g} ms upstream)",
            "muse",
            Load("POST", chat, {**JSON, **auth}, chat_body(unique=True, store=False)),
        ),
        Scenario(
            "litellm",
            f"LiteLLM, uncached ({DELAY_MS:g} ms upstream)",
            "litellm",
            Load("POST", lite + "/v1/chat/completions", litellm, openai_body()),
        ),
        Scenario(
            "stream_upstream",
            "upstream direct, streaming",
            "upstream",
            Load("POST", up, upstream, openai_body(stream=True)),
        ),
        Scenario(
            "stream",
            "Muse chat, streaming, uncached",
            "muse",
            Load("POST", chat, {**JSON, **auth}, chat_body(unique=True, store=False, stream=True)),
        ),
        Scenario(
            "stream_litellm",
            "LiteLLM, streaming",
            "litellm",
            Load("POST", lite + "/v1/chat/completions", litellm, openai_body(stream=True)),
        ),
        Scenario(
            "c1_upstream",
            "1 connection: upstream direct",
            "upstream",
            Load("POST", up, upstream, openai_body()),
            connections=1,
        ),
        Scenario(
            "c1_muse",
            "1 connection: Muse chat, uncached",
            "muse",
            Load("POST", chat, {**JSON, **auth}, chat_body(unique=True, store=False)),
            connections=1,
        ),
        Scenario(
            "c1_litellm",
            "1 connection: LiteLLM, uncached",
            "litellm",
            Load("POST", lite + "/v1/chat/completions", litellm, openai_body()),
            connections=1,
        ),
    ]
    if "baseline" in bases:  # the same Muse scenarios against the code in BENCH_BASELINE ("before")
        found += [
            Scenario("before_" + s.key, "before: " + s.label, "baseline",
                     Load(s.load.method, s.load.url.replace(muse, bases["baseline"]), s.load.headers,
                          s.load.body), connections=s.connections)
            for s in found if s.server == "muse" and s.key in BASELINE_KEYS
        ]
    return [s for s in found if (not ONLY or s.key in ONLY or s.key.removeprefix("before_") in ONLY)]


BASELINE = Path(os.environ["BENCH_BASELINE"]) if os.environ.get("BENCH_BASELINE") else None
BASELINE_KEYS = ("live", "me", "hit", "hit_stored", "uncached", "stream", "c1_muse")


# --- the run ----------------------------------------------------------------------------------


def muse_env(mongo_url: str, redis_url: str, public_pem: str, upstream: str, tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("CLERK_", "UPSTASH_", "OPENAI_", "GEMINI_", "REPLICATE_", "PAYPAL_", "OTEL_", "SENTRY_")
        )
    }
    big = [1_000_000, 1_000_000]
    env.update(
        {
            "APP_ENV": "development",
            "MONGODB_URI": mongo_url,
            "REDIS_URL": redis_url,
            "MONGODB_DB": f"bench_{uuid.uuid4().hex[:8]}",
            "CLERK_JWT_KEY": public_pem,
            "RATE_LIMITS_ENABLED": "true",  # on, with buckets the load cannot empty
            "RATE_LIMIT_PLANS": json.dumps({"free": big, "starter": big, "pro": big, "enterprise": big}),
            "WORKER_IN_PROCESS": "false",
            "LOG_LEVEL": "INFO",
            "VAR_DIR": str(tmp / "var"),
            "MEDIA_DIR": str(tmp / "media"),
            "NO_PROXY": "127.0.0.1,localhost",
            "CHAT_PROVIDERS": "openai",
            "IMAGE_PROVIDERS": "openai",
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": upstream + "/v1",
            "AI_TIMEOUT_S": "30",
        }
    )
    return env


def litellm_config(tmp: Path, upstream: str) -> Path:
    path = tmp / "litellm.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: {upstream}/v1\n"
        "      api_key: sk-bench\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    return path


async def grant(env: dict[str, str], clerk_id: str, amount: int, cwd: Path = ROOT) -> None:
    args = [sys.executable, "-m", "app", "credits", "grant", "--user", clerk_id, "--amount", str(amount)]
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"credits grant failed: {out.decode()[-2000:]}")


async def first_delta_ms(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: str, marker: bytes
) -> float:
    """Milliseconds from sending a streaming request to reading the first chunk holding `marker`."""
    began = time.perf_counter()
    async with session.post(url, data=body.encode(), headers=headers) as response:
        assert response.status == 200, await response.text()
        seen = b""
        async for chunk in response.content.iter_any():
            seen += chunk
            if marker in seen:
                took = (time.perf_counter() - began) * 1000
                await response.read()
                return took
    raise AssertionError(f"no {marker!r} in the stream")


async def ttfd(bases: dict[str, str], token: str) -> dict[str, list[float]]:
    """Sequential, interleaved: time to first delta straight from the upstream, through Muse, LiteLLM."""
    up = bases["upstream"] + "/v1/chat/completions"
    found: dict[str, list[float]] = {"upstream": [], "muse": [], "litellm": []}
    async with aiohttp.ClientSession() as session:
        for i in range(TTFD_N + 5):
            tag = f"ttfd {uuid.uuid4().hex[:8]} {i}"
            up_body = json.dumps(
                {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": tag}]}
            )
            took = {
                "upstream": await first_delta_ms(
                    session, up, {**JSON, "Authorization": "Bearer sk-bench"}, up_body, b'"content"'
                ),
                "muse": await first_delta_ms(
                    session,
                    bases["muse"] + "/api/v1/chat",
                    {**JSON, "Authorization": f"Bearer {token}"},
                    json.dumps(
                        {"messages": [{"role": "user", "content": tag}], "store": False, "stream": True}
                    ),
                    b"event: delta",
                ),
            }
            if "litellm" in bases:
                took["litellm"] = await first_delta_ms(
                    session,
                    bases["litellm"] + "/v1/chat/completions",
                    {**JSON, "Authorization": f"Bearer {LITELLM_KEY}"},
                    up_body,
                    b'"content"',
                )
            if i >= 5:  # the first ones warm up
                for name, value in took.items():
                    found[name].append(value)
    return found


def fmt_int(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk)")
    use_litellm = os.environ.get("BENCH_LITELLM", "1") != "0" and LITELLM_BIN.exists()
    with tempfile.TemporaryDirectory(prefix="muse-side-by-side-") as name:
        tmp = Path(name)
        mongo = start_mongo(tmp / "mongo", port=port())
        redis = start_redis(tmp / "redis", port=port(), persist=False)
        processes: list[subprocess.Popen] = []
        try:
            await run(
                tmp,
                mongo.url,
                redis.url,
                processes,
                use_litellm,
                stack_pids=[mongo.process.pid, redis.process.pid],
            )
        finally:
            stop(processes)
            redis.stop()
            mongo.stop()


async def run(
    tmp: Path,
    mongo_url: str,
    redis_url: str,
    processes: list[subprocess.Popen],
    use_litellm: bool,
    *,
    stack_pids: list[int],
) -> None:
    servers: dict[str, Server] = {}
    private_pem, public_pem = generate_key_pair()
    up_port = port()
    proc = spawn([sys.executable, "bench/upstream.py", str(up_port), str(DELAY_MS)])
    processes.append(proc)
    servers["upstream"] = Server("upstream", f"http://127.0.0.1:{up_port}", proc)
    await wait_up(servers["upstream"].base + "/health", proc, limit_s=30)
    hello_port = port()
    proc = spawn([sys.executable, "bench/hello_app.py", str(hello_port)])
    processes.append(proc)
    servers["hello"] = Server("hello", f"http://127.0.0.1:{hello_port}", proc)
    await wait_up(servers["hello"].base + "/health", proc, limit_s=30)

    env = muse_env(mongo_url, redis_url, public_pem, servers["upstream"].base, tmp)
    compile_bytecode(ROOT)
    if BASELINE is not None:
        compile_bytecode(BASELINE)
    migrate = subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, capture_output=True)  # noqa: ASYNC221
    assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
    muse_port = port()
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    proc = spawn([sys.executable, *profile, "-m", "app", "serve", "--port", str(muse_port)], env)
    processes.append(proc)
    muse = Server("muse", f"http://127.0.0.1:{muse_port}", proc)
    servers["muse"] = muse
    muse.started_s = await wait_up(muse.base + "/health/live", proc, limit_s=60)
    token = mint_token(private_pem, "bench_user", ttl_s=24 * 3600)
    first_me_s = await wait_up(
        muse.base + "/api/v1/me", proc, limit_s=10, headers={"Authorization": f"Bearer {token}"}
    )
    await grant(env, "bench_user", 100_000_000)
    if BASELINE is not None:
        base_env = {**env, "MONGODB_DB": env["MONGODB_DB"] + "_before"}
        migrated = subprocess.run(  # noqa: ASYNC221
            [sys.executable, "-m", "app", "migrate"], cwd=BASELINE, env=base_env, capture_output=True)
        assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
        base_port = port()
        proc = spawn([sys.executable, "-m", "app", "serve", "--port", str(base_port)], base_env, cwd=BASELINE)
        processes.append(proc)
        servers["baseline"] = Server("baseline", f"http://127.0.0.1:{base_port}", proc)
        await wait_up(servers["baseline"].base + "/health/live", proc, limit_s=60)
        await wait_up(servers["baseline"].base + "/api/v1/me", proc, limit_s=10,
                      headers={"Authorization": f"Bearer {token}"})
        await grant(base_env, "bench_user", 100_000_000, cwd=BASELINE)

    litellm_note = (
        "not measured: var/bench-litellm has no LiteLLM (make bench installs it) or BENCH_LITELLM=0"
    )
    if use_litellm:
        lite_port = port()
        lite_env = {
            **os.environ,
            "LITELLM_LOG": "ERROR",
            "LITELLM_TELEMETRY": "False",
            "NO_PROXY": "127.0.0.1,localhost",
            "DISABLE_ADMIN_UI": "True",
        }
        proc = spawn(
            [
                str(LITELLM_BIN),
                "--config",
                str(litellm_config(tmp, servers["upstream"].base)),
                "--host",
                "127.0.0.1",
                "--port",
                str(lite_port),
                "--num_workers",
                "1",
            ],
            lite_env,
        )
        processes.append(proc)
        servers["litellm"] = Server("litellm", f"http://127.0.0.1:{lite_port}", proc)
        try:
            await wait_up(servers["litellm"].base + "/health/liveliness", proc, limit_s=180)
            version = subprocess.run(  # noqa: ASYNC221
                [
                    str(LITELLM_BIN.parent / "python"),
                    "-c",
                    "import importlib.metadata as m; print(m.version('litellm'))",
                ],
                capture_output=True,
                text=True,
            ).stdout.strip()
            litellm_note = f"LiteLLM {version} proxy, 1 worker"
        except RuntimeError as exc:
            litellm_note = f"not measured: LiteLLM did not start ({exc})"
            servers.pop("litellm")
    bases = {name: server.base for name, server in servers.items()}
    plan = [s for s in scenarios(bases, token) if s.server in servers]
    skipped = [s for s in scenarios(bases, token) if s.server not in servers]

    # warm-up: a short run of each (fills the chat cache for the cache-hit rows)
    for scenario in plan:
        run_wrk(
            scenario.load,
            pid=servers[scenario.server].pid,
            connections=scenario.connections,
            seconds=min(2.0, SECONDS),
            workdir=tmp,
        )
    results: dict[str, list[Figure]] = {s.key: [] for s in plan}
    stack: dict[str, list[float]] = {s.key: [] for s in plan}
    for round_no in range(ROUNDS):
        order = plan if round_no % 2 == 0 else list(reversed(plan))  # interleaved, alternating order
        for scenario in order:
            stack_before = sum(tree_cpu_s(pid) for pid in stack_pids)
            figure = run_wrk(
                scenario.load,
                pid=servers[scenario.server].pid,
                connections=scenario.connections,
                seconds=SECONDS,
                workdir=tmp,
            )
            stack[scenario.key].append(
                (sum(tree_cpu_s(pid) for pid in stack_pids) - stack_before) / max(figure.requests, 1) * 1e6
            )
            results[scenario.key].append(figure)
            print(
                f"  round {round_no + 1}: {scenario.key:<16} {figure.rps:9.1f} req/s"
                f"  p50 {figure.p50_ms:7.2f} ms"
                f"  cpu {figure.cpu_us:7.0f} µs/req" + (f"  ERRORS {figure.errors}" if figure.errors else ""),
                flush=True,
            )
    rss_mb = tree_rss_mb(muse.pid)
    streaming = await ttfd(bases, token) if not ONLY or "ttfd" in ONLY else {}
    starts = await time_starts(env, STARTS)
    report(
        plan,
        skipped,
        results,
        stack,
        streaming,
        rss_mb=rss_mb,
        started_s=muse.started_s,
        first_me_s=first_me_s,
        starts=starts,
        litellm_note=litellm_note,
    )


def report(
    plan: list[Scenario],
    skipped: list[Scenario],
    results: dict[str, list[Figure]],
    stack: dict[str, list[float]],
    streaming: dict[str, list[float]],
    *,
    rss_mb: float,
    started_s: float,
    first_me_s: float,
    starts: list[Start],
    litellm_note: str,
) -> None:
    print()
    print(
        f"wrk -t1, {SECONDS:g} s per run, {ROUNDS} interleaved rounds, medians; {os.cpu_count()} CPUs; "
        f"upstream delay {DELAY_MS:g} ms; {litellm_note}"
    )
    print("| scenario | conns | req/s | p50 ms | server CPU µs/req | DB+Redis CPU µs/req | errors |")
    print("|---|---|---|---|---|---|---|")
    for scenario in plan:
        figures = results[scenario.key]
        stack_cell = fmt_int(median(stack[scenario.key])) if scenario.server == "muse" else ""
        print(
            f"| {scenario.label} | {scenario.connections} | {fmt_int(median([f.rps for f in figures]))} | "
            f"{median([f.p50_ms for f in figures]):.1f} | {fmt_int(median([f.cpu_us for f in figures]))} | "
            f"{stack_cell} | {sum(f.errors for f in figures)} |"
        )
    for scenario in skipped:
        print(f"| {scenario.label} | {scenario.connections} | not measured | | | | |")

    def ratio(target: str, num: str, den: str, goal: float, *, metric: str = "rps") -> None:
        if num not in results or den not in results:
            print(f"- {target}: not measured")
            return
        values = [
            getattr(a, metric) / getattr(b, metric) for a, b in zip(results[num], results[den], strict=True)
        ]
        med = median(values)
        verdict = f" — goal ≥ {goal:.2f}× {'MET' if med >= goal else 'not met'}" if goal else ""
        print(f"- {target}: {med:.2f}× (min {min(values):.2f}, max {max(values):.2f}){verdict}")

    def added(target: str, num: str, den: str, goal_ms: float) -> None:
        if num not in results or den not in results:
            print(f"- {target}: not measured")
            return
        values = [a.p50_ms - b.p50_ms for a, b in zip(results[num], results[den], strict=True)]
        med = median(values)
        verdict = (
            f" — goal ≤ {goal_ms:g} ms {'MET' if med <= goal_ms else 'not met'}" if goal_ms < 1e9 else ""
        )
        print(f"- {target}: {med:.2f} ms (min {min(values):.2f}, max {max(values):.2f}){verdict}")

    if any(s.key.startswith("before_") for s in plan):
        print()
        print("After / before (same run, per-round req/s ratios and CPU per request):")
        for key in BASELINE_KEYS:
            if key in results and "before_" + key in results:
                pairs = list(zip(results[key], results["before_" + key], strict=True))
                values = [a.rps / b.rps for a, b in pairs]
                cpu_after = median([a.cpu_us for a, _ in pairs])
                cpu_before = median([b.cpu_us for _, b in pairs])
                print(f"- {key}: req/s ×{median(values):.2f} (min {min(values):.2f}, max {max(values):.2f}); "
                      f"server CPU {fmt_int(cpu_before)} → {fmt_int(cpu_after)} µs/req")
    print()
    print("Targets (per-round ratios, median and min–max):")
    ratio("chat cache hit (store=false) / hello", "hit", "hello", 0.70)
    ratio("GET /api/v1/me / hello", "me", "hello", 0.70)
    ratio("chat cache hit, stored / hello", "hit_stored", "hello", 0.50)
    ratio(f"uncached chat at {CONNECTIONS} connections / upstream direct", "uncached", "upstream", 0.85)
    added("single-connection p50 added over the upstream: Muse", "c1_muse", "c1_upstream", 2.0)
    added(
        "single-connection p50 added over the upstream: LiteLLM (for comparison)",
        "c1_litellm",
        "c1_upstream",
        float("inf"),
    )
    ratio("streaming req/s: Muse / LiteLLM", "stream", "stream_litellm", 5.0)
    ratio("uncached req/s: Muse / LiteLLM (for comparison)", "uncached", "litellm", 0.0)
    if streaming.get("muse"):
        up, muse = median(streaming["upstream"]), median(streaming["muse"])
        line = (
            f"- streaming time to first delta, sequential, {len(streaming['muse'])} requests: upstream p50 "
            f"{up:.2f} ms, Muse p50 {muse:.2f} ms → added {muse - up:.2f} ms — goal ≤ 2 ms "
            f"{'MET' if muse - up <= 2 else 'not met'}"
        )
        if streaming.get("litellm"):
            lite = median(streaming["litellm"])
            line += f"; LiteLLM p50 {lite:.2f} ms (added {lite - up:.2f} ms)"
        print(line)
    print(
        f"- Muse worker RSS after the load: {rss_mb:.0f} MB — goal ≤ 150 MB "
        f"{'MET' if rss_mb <= 150 else 'not met'}"
    )
    print(
        f"- first request served after start (spawn → GET /health/live 200): {started_s * 1000:.0f} ms "
        f"— goal < 1000 ms {'MET' if started_s < 1 else 'not met'}; first GET /api/v1/me after that: "
        f"{first_me_s * 1000:.0f} ms"
    )
    if starts:
        walls = [s.wall_s * 1000 for s in starts]
        wall = median(walls)
        print(
            f"- first request served after start, {len(starts)} more starts after the load: median "
            f"{wall:.0f} ms (min {min(walls):.0f}, max {max(walls):.0f}), CPU used by then "
            f"{median([s.cpu_s * 1000 for s in starts]):.0f} ms — goal < 1000 ms "
            f"{'MET' if wall < 1000 else 'not met'}"
        )


if __name__ == "__main__":
    asyncio.run(main())
