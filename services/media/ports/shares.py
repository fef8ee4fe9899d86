"""Port for public share links of images (contract §11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ShareLink:
    """One public link: its secret token, the shared image and its owner."""

    token: str
    image_id: str
    owner_id: str
    created_at: datetime


class ShareRepository(Protocol):
    """Persistence of share links (at most one per image)."""

    async def get_or_create(self, link: ShareLink) -> ShareLink:
        """The image's existing link, else `link` stored."""
        ...

    async def get(self, token: str) -> ShareLink | None:
        """The link with this token, or None."""
        ...

    async def delete_for_image(self, image_id: str, *, owner_id: str) -> bool:
        """Revoke the image's link; False when it had none."""
        ...
