"""The `videos` collection: media job records like images' (repositories/images.py), in their own
collection; `BeanieImageRepository(VideoDocument)` reads and writes them."""

from __future__ import annotations

from repositories.images import MEDIA_INDEXES, MediaDocument


class VideoDocument(MediaDocument):
    class Settings:
        name = "videos"
        indexes = MEDIA_INDEXES
