"""Share links: a public page for one image, behind an unguessable token (contract §11)."""

from __future__ import annotations

import secrets

from services.media.image_models import ImageRecord
from services.media.ports.shares import ImageFinder, ImageLookup, ShareLink, ShareRepository
from services.platform.clock import utcnow
from services.platform.errors import NotFound

TOKEN_BYTES = 24  # 192 random bits (the contract asks for at least 128)






class ShareService:
    """Create, revoke and resolve share links."""

    def __init__(self, links: ShareRepository, images: ImageLookup, finder: ImageFinder, *,
                 base_url: str) -> None:
        self._links, self._images, self._finder, self._base_url = links, images, finder, base_url

    def url(self, token: str) -> str:
        """The public URL of a token."""
        return f"{self._base_url}/s/{token}"

    async def share(self, user_id: str, image_id: str) -> ShareLink:
        """The image's public link (the same one on a repeated call); only finished images."""
        record = await self._images.get(user_id, image_id)
        if record.status != "completed":
            raise NotFound("Only a finished image can be shared.")
        return await self._links.get_or_create(ShareLink(
            token=secrets.token_urlsafe(TOKEN_BYTES), image_id=record.id, owner_id=user_id,
            created_at=utcnow()))

    async def revoke_all(self, user_id: str) -> int:
        """Remove every link of the user's images (account deletion); how many."""
        return await self._links.delete_for_owner(user_id)

    async def revoke(self, user_id: str, image_id: str) -> None:
        """Remove the image's link (idempotent); another user's image is 404."""
        await self._images.get(user_id, image_id)
        await self._links.delete_for_image(image_id, owner_id=user_id)

    async def resolve(self, token: str) -> ImageRecord:
        """The shared image; 404 once revoked, deleted or expired."""
        link = await self._links.get(token) if 16 <= len(token) <= 128 else None
        record = await self._finder.get(link.image_id, user_id=link.owner_id) if link else None
        if record is None or record.status != "completed":
            raise NotFound("This link no longer works.")
        return record
