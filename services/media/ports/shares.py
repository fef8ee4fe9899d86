"""Port for public share links of images (contract §11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.media.image_models import ImageRecord


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

    async def delete_for_owner(self, owner_id: str) -> int:
        """Revoke every link of the owner's images (account deletion); how many."""
        ...

    async def delete_for_image(self, image_id: str, *, owner_id: str) -> bool:
        """Revoke the image's link; False when it had none."""
        ...


class ImageLookup(Protocol):
    """What sharing needs from the image service."""

    async def get(self, user_id: str, image_id: str) -> ImageRecord:
        """One of the user's images; NotFound otherwise."""
        ...


class ImageFinder(Protocol):
    """Reading any image by id (the public page has no user)."""

    async def get(self, image_id: str, *, user_id: str | None = None) -> ImageRecord | None:
        """The image, or None."""
        ...
