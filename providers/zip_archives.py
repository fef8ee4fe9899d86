"""Zip archives in a directory (`EXPORT_DIR`): the data export's store (services/admin/export.py).

An archive is written to `<id>.zip.part` member by member, each member chunk by chunk (the file
writes run in a thread; nothing is held in memory beyond one chunk), and renamed to `<id>.zip`
only when complete: a failed or interrupted export leaves no archive anyone could download. The
web processes and the worker must see the same directory (one host, or a shared volume).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

READ_CHUNK = 64 * 1024
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _ZipWriter:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive

    async def add(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        """One member, written chunk by chunk (deflated)."""
        member = await asyncio.to_thread(self._zip.open, name, "w", force_zip64=True)
        try:
            async for chunk in chunks:
                await asyncio.to_thread(member.write, chunk)
        finally:
            await asyncio.to_thread(member.close)


class ZipArchiveStore:
    """Archives as `<directory>/<id>.zip`."""

    def __init__(self, directory: Path) -> None:
        self._dir = Path(directory)

    def _path(self, archive_id: str) -> Path:
        if not _SAFE.match(archive_id):
            raise ValueError(f"not an archive id: {archive_id!r}")
        return self._dir / f"{archive_id}.zip"

    @contextlib.asynccontextmanager
    async def create(self, archive_id: str) -> AsyncIterator[_ZipWriter]:
        """Write an archive; it appears under its name only when the block ends without an error."""
        final = self._path(archive_id)
        part = final.with_suffix(".zip.part")
        await asyncio.to_thread(self._dir.mkdir, parents=True, exist_ok=True)
        archive = await asyncio.to_thread(zipfile.ZipFile, part, "w", zipfile.ZIP_DEFLATED)
        try:
            yield _ZipWriter(archive)
            await asyncio.to_thread(archive.close)
            await asyncio.to_thread(os.replace, part, final)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(archive.close)
            part.unlink(missing_ok=True)
            raise

    def size(self, archive_id: str) -> int | None:
        """The archive's size in bytes, or None when there is none."""
        try:
            return self._path(archive_id).stat().st_size
        except OSError:
            return None

    async def read(self, archive_id: str) -> AsyncIterator[bytes]:
        """The archive's bytes, a chunk at a time."""
        handle = await asyncio.to_thread(self._path(archive_id).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk
        finally:
            handle.close()

    async def delete(self, archive_id: str) -> bool:
        """Remove the archive (and any partial one); True when there was one."""
        path = self._path(archive_id)
        path.with_suffix(".zip.part").unlink(missing_ok=True)
        try:
            await asyncio.to_thread(path.unlink)
            return True
        except FileNotFoundError:
            return False
