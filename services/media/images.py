"""Image submission (contract §5): generate and edit jobs. Everything else of an image job is the
media library's (services/media/library.py) and the job core's (services/media/jobs.py)."""

from __future__ import annotations

from services.media.image_models import (
    Caller,
    EditInput,
    GenerateInput,
    ImageRecord,
    StoredFile,
)
from services.media.library import MediaLibrary, MediaType
from services.media.ports.images import dimensions, nearest_ratio
from services.media.ports.storage import StorageProvider
from services.platform.catalog import Catalog
from services.platform.ports.queue import JobName

IMAGES = MediaType(noun="image", topic="images", id_prefix="img", job=JobName.GENERATE_IMAGE,
                   disabled="Image generation is disabled for now.")


class ImageService:
    """Submits image jobs (charge, store the uploads, record, enqueue) through the images' library."""

    def __init__(self, library: MediaLibrary, *, storage: StorageProvider, catalog: Catalog) -> None:
        self.library, self._storage, self._catalog = library, storage, catalog

    async def submit(self, caller: Caller, inp: GenerateInput) -> ImageRecord:
        """Charge, record (queued) and enqueue a generation job."""
        await self.library.check_enabled()
        width, height = dimensions(inp.aspect_ratio)
        record = self.library.new_record(
            caller,
            kind="generate",
            prompt=inp.prompt,
            negative_prompt=inp.negative_prompt,
            aspect_ratio=inp.aspect_ratio,
            width=width,
            height=height,
            num_outputs=inp.num_outputs,
            seed=inp.seed,
            model=inp.model,
            providers=self.library.providers_for(inp.model),
            output_format=inp.output_format,
        )
        return await self.library.submit(
            caller, record, price=int(self._catalog.price("image", inp.num_outputs)), ledger_kind="image"
        )

    async def submit_edit(self, caller: Caller, inp: EditInput) -> ImageRecord:
        """Charge, store the source (and mask), record and enqueue an edit job."""
        await self.library.check_enabled()
        providers = self.library.providers_for(inp.model)
        record = self.library.new_record(
            caller,
            kind="edit",
            prompt=inp.prompt,
            negative_prompt=None,
            aspect_ratio=nearest_ratio(inp.image.width, inp.image.height),
            width=inp.image.width,
            height=inp.image.height,
            num_outputs=inp.num_outputs,
            seed=inp.seed,
            model=inp.model,
            providers=providers,
            output_format=inp.output_format,
        )
        stored: list[StoredFile] = []
        try:
            for role, upload in (("source", inp.image), ("mask", inp.mask)):
                if upload is not None:
                    obj = await self._storage.put(
                        upload.data,
                        folder=caller.user_id,
                        name=f"{record.id}_{role}",
                        content_type=upload.content_type,
                        private=True,  # an upload is the user's own photo: never publicly fetchable
                    )
                    file = StoredFile(key=obj.key, url=obj.url, width=upload.width, height=upload.height,
                                      format=upload.format)
                    stored.append(file)
                    setattr(record, role, file)
            return await self.library.submit(
                caller, record, price=int(self._catalog.price("image_edit", inp.num_outputs)),
                ledger_kind="image_edit"
            )
        except BaseException:
            for file in stored:
                await self._storage.delete(file.key)
            raise
