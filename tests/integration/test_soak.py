"""`make soak` (bench/soak.py, issue 27 item 8), run short: the stack starts, every kind of traffic
is answered, the table has its columns, and the end checks (errors, ledger = balance) can fail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.soak import MIX, Soak, report  # noqa: E402


def test_a_short_soak_answers_every_kind_and_ends_with_the_ledger_equal_to_the_balance():
    env = {**os.environ, "SOAK_SECONDS": "12", "SOAK_INTERVAL_S": "4", "SOAK_RATE": "10", "SOAK_USERS": "3"}
    for name in [k for k in env if k.startswith(("MONGODB_", "REDIS_"))]:
        env.pop(name)  # the soak starts its own servers, as `make run` does
    done = subprocess.run([sys.executable, "bench/soak.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    out = done.stdout
    assert done.returncode == 0, (out + done.stderr)[-4000:]
    rows = [line.split() for line in out.splitlines() if re.fullmatch(r"\s*\d+(\s+[\d.]+){9}\s*", line)]
    assert len(rows) >= 4, out  # t=0, every 4 s, and one at the end
    assert all(float(r[1]) > 20 and int(r[2]) > 5 for r in rows), out  # RSS MB, fds of a live server
    assert int(rows[-1][3]) >= 1 and int(rows[-1][4]) >= 1, out  # it holds MongoDB and Redis connections
    assert int(rows[-1][6]) == 120 and int(rows[-1][7]) == 120, out  # 12 s × 10/s sent, all answered
    kinds = re.search(r"by kind (\{.*\})", out).group(1)
    for kind in set(MIX) | {"payment webhook"}:
        assert f"'{kind}':" in kinds, out
    assert "errors: 0" in out and "image jobs: {'completed': " in out
    assert "ledger = balance: ok for 3 of 3 users" in out


def test_the_end_checks_fail_on_an_error_or_a_ledger_that_does_not_match(capsys):
    rows = [{"t": 0, "rss_mb": 100.0, "fds": 20, "mongo": 2, "redis": 1}]
    soak = Soak("http://x", [], stripe=None)  # type: ignore[arg-type]
    fine = {"user_id": "usr_1", "balance": 5, "ledger_balance": 5, "pending": 0, "ok": True}
    assert report(soak, rows, Counter(completed=3), [fine], None) == 0
    assert report(soak, rows, Counter(completed=3), [{**fine, "ledger_balance": 4, "ok": False}], None) == 1
    assert report(soak, rows, Counter(completed=2, failed=1), [fine], None) == 1
    soak.errors["me: HTTP 500"] += 1
    assert report(soak, rows, Counter(completed=3), [fine], None) == 1
    assert "MISMATCH" in capsys.readouterr().out
