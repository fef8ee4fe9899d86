"""The job registry (`app/jobs.py`) is the one list of jobs: names unique, every enqueue
call names a registered job by its `JobName` constant, and the worker runs exactly it."""

from __future__ import annotations

import ast
from pathlib import Path

from app.jobs import JOB_REGISTRY
from app.worker import build_worker
from services.platform.ports.queue import JobName

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("app", "controllers", "middlewares", "providers", "repositories", "services")


def _job_names() -> dict[str, str]:
    return {attr: value for attr, value in vars(JobName).items() if attr.isupper()}


def test_registered_names_are_unique_and_declared() -> None:
    names = [spec.name for spec in JOB_REGISTRY]
    assert len(names) == len(set(names))
    assert set(names) == set(_job_names().values())
    crons = [spec.cron.name for spec in JOB_REGISTRY if spec.cron is not None]
    assert len(crons) == len(set(crons))
    for spec in JOB_REGISTRY:  # the job's log/metric name (`job` wrapper) is its registered name
        assert spec.fn.__name__ == spec.name


def _enqueue_first_args() -> list[tuple[str, ast.expr]]:
    calls: list[tuple[str, ast.expr]] = []
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("enqueue", "enqueue_job") and node.args):
                    calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0]))
                # a kind of media job names its job once, in its MediaType; the library enqueues that
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "MediaType"):
                    job = next(k.value for k in node.keywords if k.arg == "job")
                    calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", job))
    return calls


def test_every_enqueue_names_a_registered_job() -> None:
    registered = {spec.name for spec in JOB_REGISTRY}
    calls = _enqueue_first_args()
    assert any(where.startswith("services/media/images.py") for where, _ in calls)  # the scan finds them
    assert any(where.startswith("services/media/videos.py") for where, _ in calls)
    for where, arg in calls:
        if where.startswith("repositories/queue.py"):  # the adapter passes its argument on
            continue
        if where.startswith("services/media/library.py"):  # enqueues its MediaType's job (checked there)
            assert ast.unparse(arg) == "self.media.job", where
            continue
        assert (isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)
                and arg.value.id == "JobName"), f"{where}: enqueue by a JobName constant"
        assert _job_names()[arg.attr] in registered, where


def test_worker_is_built_from_the_registry() -> None:
    class _Settings:
        queue_name, image_timeout_s, video_timeout_s = "q", 60.0, 600.0

    class _Platform:
        redis = None

    class _Container:
        settings, platform = _Settings(), _Platform()
        credits = media = payments = admin = None

    worker = build_worker(_Container(), handle_signals=False, burst=True)  # type: ignore[arg-type]
    assert set(worker.functions) == ({s.name for s in JOB_REGISTRY}
                                     | {s.cron.name for s in JOB_REGISTRY if s.cron is not None})
    crons = {c.name: c for c in worker.cron_jobs}
    assert crons["cron:housekeeping"].minute == {0, 15, 30, 45}
    assert crons["cron:images"].minute is None
    assert crons["cron:credits_reconcile"].minute == set(range(2, 60, 5))
    assert crons["cron:payments_reconcile"].minute == set(range(4, 60, 5))
    assert all(c.unique and not c.run_at_startup for c in crons.values())
