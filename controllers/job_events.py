"""`GET /api/v1/{images,videos}/{id}/events`: a job's status changes as server-sent events.

`event: status` with the resource, first as it is, then at each status change pushed from
whichever process made it (a `: keep-alive` comment line after 15 s of quiet); the stream
ends after a terminal status (or when the job has not finished within its time budget and the
sweeper's grace: the client may reconnect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart import Response

from controllers.sse import status_events, stream_response
from services.media.image_models import TERMINAL, ImageRecord
from services.media.library import MediaLibrary

STREAM_GRACE_S = 60.0  # past the job's budget the sweeper fails it; the stream outlives that
HEARTBEAT_S = 15.0  # a comment line when nothing changed for this long (proxies keep the stream open)


async def status_stream(service: MediaLibrary, render: Callable[[ImageRecord], dict[str, Any]],
                        user_id: str, job_id: str) -> Response:
    """The event stream of one of the user's jobs (404 before streaming for another user's job)."""
    await service.get(user_id, job_id)
    changes = service.follow(job_id, user_id=user_id, timeout_s=service.timeout_s + STREAM_GRACE_S,
                             heartbeat_s=HEARTBEAT_S)
    return stream_response(status_events(changes, render, finished=lambda record: record.status in TERMINAL,
                                         key=lambda record: record.status))
