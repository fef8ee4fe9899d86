"""The worker's side of the composition root: `JobContext`, what a job may use, typed.

arq hands each job its `ctx` dict (its own `job_id`, `job_try`, ... and what the worker was built
with); the worker is built with `arq_context(container)`, and `context_of(ctx)` is the one place a
job's `JobContext` is read from it (the `job` wrapper in app/jobs.py calls it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.wiring.admin import AdminParts
from app.wiring.container import Container
from app.wiring.credits import CreditsParts
from app.wiring.media import MediaParts
from app.wiring.payments import PaymentsParts
from app.wiring.platform import PlatformParts

JOB_CONTEXT = "muse"  # the key of arq's ctx holding the JobContext


@dataclass(frozen=True, kw_only=True)
class JobContext:
    """The parts of the domains that have jobs."""

    settings: Settings
    platform: PlatformParts
    credits: CreditsParts
    media: MediaParts
    payments: PaymentsParts
    admin: AdminParts


def job_context(container: Container) -> JobContext:
    """The JobContext of a started container."""
    return JobContext(settings=container.settings, platform=container.platform, credits=container.credits,
                      media=container.media, payments=container.payments, admin=container.admin)


def arq_context(container: Container) -> dict[str, Any]:
    """The `ctx` a worker over `container` is built with."""
    return {JOB_CONTEXT: job_context(container)}


def context_of(ctx: Mapping[str, Any]) -> JobContext:
    """The JobContext arq handed a job (a TypeError when the worker was built without one)."""
    context = ctx.get(JOB_CONTEXT)
    if not isinstance(context, JobContext):
        raise TypeError("the worker's ctx holds no JobContext: build it with arq_context(container)")
    return context
