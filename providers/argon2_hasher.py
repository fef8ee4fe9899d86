"""argon2id password hashes through argon2-cffi, off the event loop.

argon2-cffi (with its cffi bindings, ~0.5 MB) is imported by the first password hashed or checked:
most processes serve only bearer tokens and API keys (issue 28)."""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


class Argon2PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile) unless told otherwise."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4) -> None:
        self._time_cost, self._memory_kib, self._parallelism = time_cost, memory_kib, parallelism

    @cached_property
    def _hasher(self) -> PasswordHasher:
        from argon2 import PasswordHasher, Type

        return PasswordHasher(time_cost=self._time_cost, memory_cost=self._memory_kib,
                              parallelism=self._parallelism, type=Type.ID)

    async def hash(self, password: str) -> str:
        """A new salted argon2id hash (PHC string)."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False on a mismatch or a malformed hash."""
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        from argon2.exceptions import InvalidHashError

        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True
