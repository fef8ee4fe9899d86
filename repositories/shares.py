"""Share links in MongoDB (Beanie 2): one document per shared image."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from repositories.documents import MuseDocument
from services.media.ports.shares import ShareLink


class ShareLinkDocument(MuseDocument):
    id: str  # type: ignore[assignment]  # the token
    image_id: str
    owner_id: str
    created_at: datetime

    class Settings:
        name = "share_links"
        indexes = [IndexModel([("image_id", ASCENDING)], unique=True)]

    def to_domain(self) -> ShareLink:
        return ShareLink(token=self.id, image_id=self.image_id, owner_id=self.owner_id,
                         created_at=self.created_at)


class BeanieShareRepository:
    """`ShareRepository` on MongoDB; the unique image index keeps one link per image."""

    async def get_or_create(self, link: ShareLink) -> ShareLink:
        """The image's existing link, else `link` stored (a concurrent twin loses to the index)."""
        existing = await ShareLinkDocument.find_one({"image_id": link.image_id})
        if existing:
            return existing.to_domain()
        try:
            await ShareLinkDocument(id=link.token, image_id=link.image_id, owner_id=link.owner_id,
                                    created_at=link.created_at).insert()
        except DuplicateKeyError:
            existing = await ShareLinkDocument.find_one({"image_id": link.image_id})
            if existing:
                return existing.to_domain()
            raise
        return link

    async def get(self, token: str) -> ShareLink | None:
        """The link with this token, or None."""
        doc = await ShareLinkDocument.find_one({"_id": token})
        return doc.to_domain() if doc else None

    async def delete_for_owner(self, owner_id: str) -> int:
        """Revoke every link of the owner's images; how many."""
        result = await ShareLinkDocument.find({"owner_id": owner_id}).delete()
        return result.deleted_count if result else 0

    async def delete_for_image(self, image_id: str, *, owner_id: str) -> bool:
        """Revoke the image's link; False when it had none."""
        result = await ShareLinkDocument.find({"image_id": image_id, "owner_id": owner_id}).delete()
        return bool(result and result.deleted_count)
