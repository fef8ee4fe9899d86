"""`make bench` (bench/side_by_side.py): the table, the after/before ratios and the targets of issue 28."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.sbs_processes import Start
from bench.sbs_wrk import Figure, Scenario


def fmt_int(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _range(values: list[float], fmt: str = ".2f") -> str:
    return f"{median(values):{fmt}} (min {min(values):{fmt}}, max {max(values):{fmt}})"


def table(
    plan: list[Scenario],
    skipped: list[Scenario],
    results: dict[str, list[Figure]],
    stack: dict[str, list[float]],
) -> None:
    print(
        "| scenario | conns | req/s (min–max) | p50 ms | server CPU µs/req | DB+Redis CPU µs/req | errors |"
    )
    print("|---|---|---|---|---|---|---|")
    for scenario in plan:
        figures = results[scenario.key]
        rps = [f.rps for f in figures]
        stack_cell = fmt_int(median(stack[scenario.key])) if scenario.server in ("muse", "baseline") else ""
        print(
            f"| {scenario.label} | {scenario.connections} | {fmt_int(median(rps))} "
            f"({fmt_int(min(rps))}–{fmt_int(max(rps))}) | "
            f"{median([f.p50_ms for f in figures]):.1f} | {fmt_int(median([f.cpu_us for f in figures]))} | "
            f"{stack_cell} | {sum(f.errors for f in figures)} of {sum(f.requests for f in figures)} |"
        )
    for scenario in skipped:
        print(f"| {scenario.label} | {scenario.connections} | not measured | | | | |")


def after_before(results: dict[str, list[Figure]], keys: tuple[str, ...]) -> None:
    print()
    print("After / before (same run, per-round req/s ratios and CPU per request):")
    for key in keys:
        if key in results and "before_" + key in results:
            pairs = list(zip(results[key], results["before_" + key], strict=True))
            cpu_after = median([a.cpu_us for a, _ in pairs])
            cpu_before = median([b.cpu_us for _, b in pairs])
            print(
                f"- {key}: req/s ×{_range([a.rps / b.rps for a, b in pairs])}; "
                f"server CPU {fmt_int(cpu_before)} → {fmt_int(cpu_after)} µs/req"
            )


def targets(
    results: dict[str, list[Figure]],
    streaming: dict[str, list[float]],
    *,
    rss_mb: dict[str, float],
    started_s: float,
    first_me_s: float,
    starts: dict[str, list[Start]],
) -> None:
    def have(*keys: str) -> bool:
        return all(k in results for k in keys)

    def per_round(num: str, den: str, value: Callable[[Figure, Figure], float]) -> list[float]:
        return [value(a, b) for a, b in zip(results[num], results[den], strict=True)]

    def ratio(target: str, num: str, den: str, goal: float) -> None:
        if not have(num, den):
            print(f"- {target}: not measured")
            return
        values = per_round(num, den, lambda a, b: a.rps / b.rps)
        verdict = f" — goal ≥ {goal:.2f}× {'MET' if median(values) >= goal else 'not met'}" if goal else ""
        print(f"- {target}: {_range(values)}×{verdict}")

    def cpu(target: str, key: str, goal_us: float) -> None:
        if not have(key):
            print(f"- {target}: not measured")
            return
        values = [f.cpu_us for f in results[key]]
        print(
            f"- {target}: {_range(values, '.0f')} µs — goal ≤ {goal_us:g} µs "
            f"{'MET' if median(values) <= goal_us else 'not met'}"
        )

    def added(key: str) -> list[float]:
        return per_round(key, "c1_upstream", lambda a, b: a.p50_ms - b.p50_ms)

    print()
    print("Targets of issue 28 (per-round ratios: median and min–max):")
    ratio("uncached chat req/s: Muse / Portkey", "uncached", "portkey", 1.0)
    if have("c1_muse", "c1_upstream"):
        muse = added("c1_muse")
        line = f"- single-connection p50 added over the upstream: Muse {_range(muse)} ms"
        if have("c1_portkey"):
            portkey = added("c1_portkey")
            line += (
                f"; Portkey {_range(portkey)} ms — goal Muse ≤ Portkey "
                f"{'MET' if median(muse) <= median(portkey) else 'not met'}"
            )
        if have("c1_litellm"):
            line += f"; LiteLLM {_range(added('c1_litellm'))} ms"
        print(line)
    ratio("chat cache hit (store=false) / hello", "hit", "hello", 0.70)
    ratio("GET /api/v1/me / hello", "me", "hello", 0.60)
    ratio("chat cache hit, stored / hello", "hit_stored", "hello", 0.45)
    ratio("streamed chat req/s: Muse / LiteLLM", "stream", "stream_litellm", 8.0)
    cpu("server CPU per uncached chat (Muse)", "uncached", 1500)
    cpu("server CPU per cache hit (Muse)", "hit", 600)
    for peer in ("portkey", "litellm"):
        if have(peer):
            print(
                f"- server CPU per uncached chat ({peer}, for comparison): "
                f"{_range([f.cpu_us for f in results[peer]], '.0f')} µs"
            )
    muse_rss = rss_mb.get("muse", float("nan"))
    named = {"baseline": "before"}
    others = {named.get(name, name): mb for name, mb in rss_mb.items() if name != "muse"}
    peers_rss = "; ".join(f"{name} {mb:.0f} MB" for name, mb in others.items())
    print(
        f"- Muse worker RSS after the load: {muse_rss:.0f} MB — goal ≤ 130 MB "
        f"{'MET' if muse_rss <= 130 else 'not met'}" + (f" ({peers_rss})" if peers_rss else "")
    )
    print()
    print("For comparison:")
    ratio("uncached chat: Muse / upstream direct", "uncached", "upstream", 0.0)
    ratio("uncached chat: Portkey / upstream direct", "portkey", "upstream", 0.0)
    ratio("uncached chat: Muse / LiteLLM", "uncached", "litellm", 0.0)
    if "stream_portkey" in results:
        bad = sum(f.errors for f in results["stream_portkey"])
        total = sum(f.requests for f in results["stream_portkey"])
        print(
            f"- Portkey streamed: {bad} of {total} requests answered with an error status "
            "(not a target: see the row)"
        )
    if streaming.get("muse"):
        up, muse_ttfd = median(streaming["upstream"]), median(streaming["muse"])
        line = (
            f"- streaming time to first delta, sequential, {len(streaming['muse'])} requests: upstream p50 "
            f"{up:.2f} ms, Muse p50 {muse_ttfd:.2f} ms → added {muse_ttfd - up:.2f} ms"
        )
        if streaming.get("litellm"):
            lite = median(streaming["litellm"])
            line += f"; LiteLLM p50 {lite:.2f} ms (added {lite - up:.2f} ms)"
        print(line)
    print(
        f"- first request served after start (spawn → GET /health/live 200): {started_s * 1000:.0f} ms; "
        f"first GET /api/v1/me after that: {first_me_s * 1000:.0f} ms"
    )
    for name, label in (("muse", ""), ("baseline", "before: ")):
        if starts.get(name):
            walls, cpus = [s.wall_s * 1000 for s in starts[name]], [s.cpu_s * 1000 for s in starts[name]]
            print(
                f"- {label}first request served after start, {len(walls)} more starts after the load "
                f"(interleaved): {_range(walls, '.0f')} ms, CPU used by then {_range(cpus, '.0f')} ms"
            )
