"""`make bench` (bench/side_by_side.py): one load run by Debian's wrk, and what it measured."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.sbs_processes import tree_cpu_s

JSON = {"Content-Type": "application/json"}


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


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    server: str  # key into the servers dict
    load: Load
    connections: int = int(os.environ.get("BENCH_CONNECTIONS", "32"))


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


async def ttfd(bases: dict[str, str], token: str, n: int, litellm_key: str) -> dict[str, list[float]]:
    """Sequential, interleaved: time to first delta straight from the upstream, through Muse, LiteLLM."""
    up = bases["upstream"] + "/v1/chat/completions"
    found: dict[str, list[float]] = {"upstream": [], "muse": [], "litellm": []}
    async with aiohttp.ClientSession() as session:
        for i in range(n + 5):
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
                    {**JSON, "Authorization": f"Bearer {litellm_key}"},
                    up_body,
                    b'"content"',
                )
            if i >= 5:  # the first ones warm up
                for name, value in took.items():
                    found[name].append(value)
    return found
