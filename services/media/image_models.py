"""Media job records and inputs: the domain shapes shared by the image and video services, the job
runner and the repository. An image and a video are one kind of job record (`ImageRecord`): a
video has a video `kind`, `duration_s`, `fps` and outputs with a poster."""

from __future__ import annotations

from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.credits.model import Receipt
from services.platform.errors import AppError
from services.platform.uploads import CheckedUpload

Status = Literal["queued", "in_progress", "completed", "failed", "expired"]
ACTIVE: tuple[Status, ...] = ("queued", "in_progress")
TERMINAL: tuple[Status, ...] = ("completed", "failed", "expired")
Kind = Literal["generate", "edit", "text_to_video", "image_to_video"]
VIDEO_KINDS: tuple[Kind, ...] = ("text_to_video", "image_to_video")


class StoredFile(BaseModel):
    """A file in our storage: what clients see (url, size, format) and our key to delete it."""

    key: str
    url: str
    width: int | None = None
    height: int | None = None
    format: str | None = None
    duration_s: float | None = None  # videos
    poster_key: str | None = None  # videos: the still shown before playing
    poster_url: str | None = None


class ImageRecord(BaseModel):
    """One media job (an image or a video) and its results (contract §5/§15 resource, plus private
    fields)."""

    id: str
    user_id: str
    status: Status = "queued"
    kind: Kind = "generate"
    prompt: str
    negative_prompt: str | None = None
    aspect_ratio: str = "1:1"
    width: int
    height: int
    num_outputs: int = 1
    seed: int | None = None
    model: str = "default"
    provider: str | None = None
    providers: list[str] | None = None  # restrict the chain (None: configured order)
    output_format: str = "webp"
    outputs: list[StoredFile] = Field(default_factory=list)
    source: StoredFile | None = None
    mask: StoredFile | None = None
    error: dict[str, Any] | None = None
    saved: bool = False
    expires_at: datetime | None = None
    credits_charged: int = 0
    receipt: dict[str, Any] | None = None
    refunded: bool = False
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Worker liveness (contract §16): who runs the job, its last heartbeat, and when its first
    # provider call began (None: nothing sent yet, so a silent worker's job can be re-queued).
    claimed_by: str | None = None
    heartbeat_at: datetime | None = None
    dispatched_at: datetime | None = None
    request_id: str | None = None
    duration_s: float | None = None  # videos
    fps: int | None = None
    source_image_id: str | None = None

    @property
    def settled(self) -> bool:
        """Final for a waiting caller: finished, and a failure's refund went through."""
        return self.status not in ACTIVE and (self.status != "failed" or self.refunded or not self.receipt)




def problem_of(error: AppError) -> dict[str, Any]:
    """The problem body stored on a failed record (no stack traces, no provider secrets).

    No HTTP status: the controller adds the status of `code` when it shows the record."""
    return {
        "type": error.code.replace("_", "-"),
        "title": error.title,
        "code": error.code,
        "detail": error.detail,
    }


def receipt_data(receipt: Any) -> dict[str, Any]:
    """A credits Receipt as plain data (to keep it on the record)."""
    if is_dataclass(receipt) and not isinstance(receipt, type):
        return asdict(receipt)
    return dict(receipt)


def receipt_from(data: dict[str, Any]) -> Any:
    """The credits Receipt kept on a record."""
    return Receipt(**data)




@dataclass(frozen=True)
class Caller:
    """Who submits, on which plan, under which request ID."""

    user_id: str
    plan: str
    request_id: str | None


@dataclass(frozen=True)
class GenerateInput:
    prompt: str
    negative_prompt: str | None = None
    aspect_ratio: str = "1:1"
    num_outputs: int = 1
    seed: int | None = None
    model: str = "default"
    output_format: str = "webp"


@dataclass(frozen=True)
class VideoInput:
    prompt: str
    source_image_id: str | None = None
    duration_s: int = 5
    aspect_ratio: str = "16:9"
    model: str = "default"


@dataclass(frozen=True)
class EditInput:
    prompt: str
    image: CheckedUpload
    mask: CheckedUpload | None = None
    num_outputs: int = 1
    seed: int | None = None
    model: str = "default"
    output_format: str = "png"
