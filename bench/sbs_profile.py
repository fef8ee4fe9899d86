"""`make bench` with BENCH_PYSPY=DIR: py-spy samples Muse (and the BENCH_BASELINE Muse) under load.

After the measured rounds (so the sampler's CPU is in no figure), each profiled scenario runs once more
for BENCH_SECONDS with `py-spy record` attached to the server: DIR/<scenario>.txt holds the collapsed
stacks (flamegraph.pl or speedscope draw them); the report prints each one's top frames by own time (the
frame on top of the stack) and by total time (the frame anywhere in the stack).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

PYSPY = Path(sys.executable).parent / "py-spy"
_LINE = re.compile(r"^(.*) (\d+)$")


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """Start sampling `pid` for `seconds` (100 Hz, idle frames left out) into `out`."""
    return subprocess.Popen(
        [
            str(PYSPY),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "100",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _frame(text: str) -> str:
    """`func (path/to/module.py:12)` → `func (module.py)`: one name per function, not per line."""
    match = re.match(r"^(.*) \((.*?):?\d*\)$", text)
    if not match:
        return text
    name, path = match.groups()
    parts = path.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{name} ({short.split(':')[0]})"


def top_frames(
    collapsed: Path, n: int = 12, total_n: int = 20
) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Samples in all, the top `n` frames by own samples and by inclusive samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        stack, count = match.group(1), int(match.group(2))
        frames = [_frame(f) for f in stack.split(";")[1:]]  # the first is the process/thread
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    return samples, own.most_common(n), total.most_common(total_n)


def print_top(name: str, collapsed: Path) -> None:
    if not collapsed.exists():
        print(f"- {name}: no profile ({collapsed} missing: py-spy failed?)")
        return
    samples, own, total = top_frames(collapsed)
    print(f"\npy-spy {name}: {samples} samples (100 Hz); top frames by own time:")
    for frame, count in own:
        print(f"  {count / max(samples, 1) * 100:5.1f}%  {frame}")
    print("  top frames by total time (leaving out those in ≥ 90% of the samples: the server's loop):")
    for frame, count in total:
        if count >= 0.9 * samples:
            continue
        print(f"  {count / max(samples, 1) * 100:5.1f}%  {frame}")
