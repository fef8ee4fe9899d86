"""`make bench`: Muse beside a bare Quart hello, its fake upstream, Portkey and LiteLLM (issues 12, 28).

Starts, each in its own process:
  - a bare Quart hello on Hypercorn (bench/hello_app.py), the reference;
  - a fake OpenAI-style upstream answering after BENCH_DELAY_MS (bench/upstream.py, 50 ms);
  - Muse as `make run` serves it (`python -m app serve`; nx-27017 + Redis; OpenAI as the chat
    provider pointed at the fake upstream), on BENCH_MUSE_PYTHON (`make bench`: a venv of the
    runtime dependencies only, as deployed; unset: this interpreter). Every rule stays on: auth,
    rate limits (a bucket big enough for the load), credits, ledger, request IDs, access logs
    (LOG_LEVEL=INFO, written to /dev/null);
  - the peers on the same upstream (bench/sbs_peers.py): the Portkey AI gateway (npm, on Node 22 from
    npm; `make bench` installs it into var/bench-portkey; BENCH_PORTKEY=0 skips it) and LiteLLM's
    proxy (`make bench` installs it into var/bench-litellm; BENCH_LITELLM=0 skips it); a peer that
    is missing gives rows saying "not measured".
Drives each scenario with Debian's `wrk` (-t1 -cBENCH_CONNECTIONS, BENCH_SECONDS), in
BENCH_ROUNDS interleaved rounds, and prints medians (req/s, p50, server CPU µs/req: the
user+system CPU of the server's process tree over the run, per completed request), then
each issue-28 target with its ratio and min–max across rounds, the streaming time to first
delta, worker RSS after the load and the time from start to the first request served (the first
start, then BENCH_STARTS more once the load is over: median, min–max, and the CPU the process had
used by then; the project's bytecode is compiled first, as `make bytecode` and deployments do).

    .venv/bin/python bench/side_by_side.py
    BENCH_SECONDS=3 BENCH_ROUNDS=1 BENCH_ONLY=hello,me .venv/bin/python bench/side_by_side.py
    BENCH_PORT_BASE=18100   # ports from there instead of free ones
    BENCH_STARTS=5          # extra starts of `python -m app serve` timed after the load (0: none)
    BENCH_PROFILE=/tmp/muse.prof   # Muse under cProfile (figures then not comparable)
    BENCH_PYSPY=/tmp/spy           # after the rounds, py-spy over the uncached and cache-hit chat: top frames
    BENCH_BASELINE=/tmp/muse-main  # a checkout of the code before: its Muse runs the Muse scenarios too
                                   # ("before: ..." rows, after/before ratios, its RSS after the load and
                                   # its starts, interleaved with Muse's; same stack, own database)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.embedded import free_port, start_mongo, start_redis  # noqa: E402
from bench.sbs_peers import LITELLM_KEY, portkey_headers, start_litellm, start_portkey  # noqa: E402
from bench.sbs_processes import (  # noqa: E402
    MUSE_PYTHON,
    Server,
    Start,
    compile_bytecode,
    grant,
    muse_env,
    spawn,
    stop,
    time_starts,
    tree_cpu_s,
    tree_rss_mb,
    wait_up,
)
from bench.sbs_profile import print_top, record  # noqa: E402
from bench.sbs_report import after_before, table, targets  # noqa: E402
from bench.sbs_wrk import JSON, Figure, Load, Scenario, run_wrk, ttfd  # noqa: E402
from providers.dev_keys import generate_key_pair, mint_token  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DELAY_MS = float(os.environ.get("BENCH_DELAY_MS", "50"))
ONLY = {s for s in os.environ.get("BENCH_ONLY", "").split(",") if s}
TTFD_N = int(os.environ.get("BENCH_TTFD_N", "60"))
STARTS = int(os.environ.get("BENCH_STARTS", "5"))
_ports = iter(range(int(os.environ["BENCH_PORT_BASE"]), 65535)) if os.environ.get("BENCH_PORT_BASE") else None


def port() -> int:
    return next(_ports) if _ports is not None else free_port()


# --- scenarios --------------------------------------------------------------------------------


def chat_body(*, unique: bool, store: bool, stream: bool = False) -> str:
    content = "bench question {n}" if unique else "cached bench question"
    return json.dumps({"messages": [{"role": "user", "content": content}], "store": store, "stream": stream})


def openai_body(*, stream: bool = False) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "bench question {n}"}]}
    if stream:
        body["stream"] = True
    return json.dumps(body)


def scenarios(bases: dict[str, str], token: str) -> list[Scenario]:
    auth = {"Authorization": f"Bearer {token}"}
    upstream = {**JSON, "Authorization": "Bearer sk-bench"}
    litellm = {**JSON, "Authorization": f"Bearer {LITELLM_KEY}"}
    portkey = portkey_headers(bases["upstream"])
    up, muse = bases["upstream"] + "/v1/chat/completions", bases["muse"]
    lite = bases.get("litellm", "") + "/v1/chat/completions"
    pk = bases.get("portkey", "") + "/v1/chat/completions"
    chat, muse_json = muse + "/api/v1/chat", {**JSON, **auth}
    uncached, delay = chat_body(unique=True, store=False), f"({DELAY_MS:g} ms upstream)"
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
            Load("POST", chat, muse_json, chat_body(unique=False, store=False)),
        ),
        Scenario(
            "hit_stored",
            "Muse chat, cache hit, stored",
            "muse",
            Load("POST", chat, muse_json, chat_body(unique=False, store=True)),
        ),
        Scenario("uncached", f"Muse chat, uncached {delay}", "muse", Load("POST", chat, muse_json, uncached)),
        Scenario(
            "portkey", f"Portkey, uncached {delay}", "portkey", Load("POST", pk, portkey, openai_body())
        ),
        Scenario(
            "litellm", f"LiteLLM, uncached {delay}", "litellm", Load("POST", lite, litellm, openai_body())
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
            Load("POST", chat, muse_json, chat_body(unique=True, store=False, stream=True)),
        ),
        Scenario(
            "stream_portkey",
            "Portkey, streaming",
            "portkey",
            Load("POST", pk, portkey, openai_body(stream=True)),
        ),
        Scenario(
            "stream_litellm",
            "LiteLLM, streaming",
            "litellm",
            Load("POST", lite, litellm, openai_body(stream=True)),
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
            Load("POST", chat, muse_json, uncached),
            connections=1,
        ),
        Scenario(
            "c1_portkey",
            "1 connection: Portkey, uncached",
            "portkey",
            Load("POST", pk, portkey, openai_body()),
            connections=1,
        ),
        Scenario(
            "c1_litellm",
            "1 connection: LiteLLM, uncached",
            "litellm",
            Load("POST", lite, litellm, openai_body()),
            connections=1,
        ),
    ]
    if "baseline" in bases:  # the same Muse scenarios against the code in BENCH_BASELINE ("before")
        found += [
            Scenario(
                "before_" + s.key,
                "before: " + s.label,
                "baseline",
                Load(s.load.method, s.load.url.replace(muse, bases["baseline"]), s.load.headers, s.load.body),
                connections=s.connections,
            )
            for s in found
            if s.server == "muse" and s.key in BASELINE_KEYS
        ]
    return [s for s in found if (not ONLY or s.key in ONLY or s.key.removeprefix("before_") in ONLY)]


BASELINE = Path(os.environ["BENCH_BASELINE"]) if os.environ.get("BENCH_BASELINE") else None
PROFILED = ("uncached", "hit")
BASELINE_KEYS = ("live", "me", "hit", "hit_stored", "uncached", "stream", "c1_muse")


# --- the run ----------------------------------------------------------------------------------


async def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `make bench` installs it (apt-get install wrk)")
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
    migrate = subprocess.run([MUSE_PYTHON, "-m", "app", "migrate"], cwd=ROOT, env=env, capture_output=True)  # noqa: ASYNC221
    assert migrate.returncode == 0, migrate.stderr.decode()[-2000:]
    muse_port = port()
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    proc = spawn([MUSE_PYTHON, *profile, "-m", "app", "serve", "--port", str(muse_port)], env)
    processes.append(proc)
    muse = Server("muse", f"http://127.0.0.1:{muse_port}", proc)
    servers["muse"] = muse
    muse.started_s = await wait_up(muse.base + "/health/live", proc, limit_s=60)
    token = mint_token(private_pem, "bench_user", ttl_s=24 * 3600)
    first_me_s = await wait_up(
        muse.base + "/api/v1/me", proc, limit_s=10, headers={"Authorization": f"Bearer {token}"}
    )
    await grant(env, "bench_user", 100_000_000)
    base_env = {**env, "MONGODB_DB": env["MONGODB_DB"] + "_before"}
    if BASELINE is not None:
        migrated = subprocess.run(  # noqa: ASYNC221
            [MUSE_PYTHON, "-m", "app", "migrate"], cwd=BASELINE, env=base_env, capture_output=True
        )
        assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
        base_port = port()
        proc = spawn([MUSE_PYTHON, "-m", "app", "serve", "--port", str(base_port)], base_env, cwd=BASELINE)
        processes.append(proc)
        servers["baseline"] = Server("baseline", f"http://127.0.0.1:{base_port}", proc)
        await wait_up(servers["baseline"].base + "/health/live", proc, limit_s=60)
        await wait_up(
            servers["baseline"].base + "/api/v1/me",
            proc,
            limit_s=10,
            headers={"Authorization": f"Bearer {token}"},
        )
        await grant(base_env, "bench_user", 100_000_000, cwd=BASELINE)

    notes = []
    for name, starting in (
        ("portkey", start_portkey(port, processes)),
        ("litellm", start_litellm(tmp, servers["upstream"].base, port, processes)),
    ):
        peer, note = await starting
        notes.append(note)
        if peer is not None:
            servers[name] = peer
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
    profiles = sample_profiles(servers, plan, tmp) if os.environ.get("BENCH_PYSPY") else []
    rss_mb = {
        name: tree_rss_mb(servers[name].pid)
        for name in ("muse", "baseline", "portkey", "litellm")
        if name in servers
    }
    streaming = await ttfd(bases, token, TTFD_N, LITELLM_KEY) if not ONLY or "ttfd" in ONLY else {}
    starts: dict[str, list[Start]] = {"muse": [], "baseline": []}
    for _ in range(STARTS):  # interleaved with the baseline's, so both see the same machine
        starts["muse"] += await time_starts(env, 1, port)
        if BASELINE is not None:
            starts["baseline"] += await time_starts(base_env, 1, port, cwd=BASELINE)
    print()
    print(
        f"wrk -t1, {SECONDS:g} s per run, {ROUNDS} interleaved rounds, medians; {os.cpu_count()} CPUs; "
        f"upstream delay {DELAY_MS:g} ms; " + "; ".join(notes)
    )
    runtime = "runtime dependencies only" if MUSE_PYTHON != sys.executable else "dev tools included"
    print(f"Muse (and its baseline) on {MUSE_PYTHON} ({runtime})")
    table(plan, skipped, results, stack)
    if BASELINE is not None:
        after_before(results, BASELINE_KEYS)
    for name, collapsed in profiles:
        print_top(name, collapsed)
    targets(results, streaming, rss_mb=rss_mb, started_s=muse.started_s, first_me_s=first_me_s, starts=starts)


def sample_profiles(servers: dict[str, Server], plan: list[Scenario], tmp: Path) -> list[tuple[str, Path]]:
    """One more run of each profiled scenario with py-spy attached (bench/sbs_profile.py)."""
    out = Path(os.environ["BENCH_PYSPY"])
    out.mkdir(parents=True, exist_ok=True)
    found = []
    for scenario in plan:
        if scenario.key.removeprefix("before_") not in PROFILED:
            continue
        pid = servers[scenario.server].pid
        collapsed = out / f"{scenario.key}.txt"
        sampler = record(pid, SECONDS, collapsed)
        run_wrk(scenario.load, pid=pid, connections=scenario.connections, seconds=SECONDS, workdir=tmp)
        sampler.wait(60)
        found.append((scenario.key, collapsed))
    return found


if __name__ == "__main__":
    asyncio.run(main())
