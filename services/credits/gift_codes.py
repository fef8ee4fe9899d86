"""Gift codes: creation by admins, redemption once (even under concurrency), listing with status.

Codes are 16 random characters from an unambiguous alphabet (no 0/O, 1/I),
shown as XXXX-XXXX-XXXX-XXXX (80 bits); input is case-insensitive and may
omit the dashes. Claiming the code and crediting it are two steps: a code
claimed but not credited (crash in between) is finished by `reconcile`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

# These live with their port (in the domain's ports); imported from here too.
from services.credits.ports import GiftCode as GiftCode
from services.credits.ports import GiftCodeRepository as GiftCodeRepository
from services.credits.service import CreditsService
from services.platform.catalog import Catalog
from services.platform.clock import utcnow
from services.platform.errors import Conflict, Gone, NotFound, ValidationFailed
from services.platform.ids import new_id

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS, GROUP = 4, 4






def new_code() -> str:
    """A fresh random code, grouped for reading."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP))
    return "-".join(raw[i:i + GROUP] for i in range(0, len(raw), GROUP))


def normalize(text: str) -> str | None:
    """The canonical form of what a user typed, or None if it cannot be a code."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(raw) != GROUPS * GROUP or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i:i + GROUP] for i in range(0, len(raw), GROUP))


class GiftCodeService:
    """Creates and redeems gift codes."""

    def __init__(self, codes: GiftCodeRepository, credits: CreditsService, catalog: Catalog) -> None:
        self._codes, self._credits, self._catalog = codes, credits, catalog

    async def create(self, *, count: int, tier: str | None = None, credits: int | None = None,
                     expires_at: datetime | None = None, created_by: str | None = None) -> list[GiftCode]:
        """Make `count` codes carrying a gift tier or plain credits."""
        if (tier is None) == (credits is None):
            raise ValidationFailed("Give exactly one of tier or credits.",
                                   errors=[{"loc": ["body"], "msg": "exactly one of tier, credits"}])
        if tier is not None:
            self._catalog.gift_tier(tier)
        if credits is not None and credits <= 0:
            raise ValidationFailed("credits must be positive.", errors=[{"loc": ["body", "credits"],
                                                                          "msg": "must be > 0"}])
        if not 1 <= count <= 1000:
            raise ValidationFailed("count must be 1..1000.", errors=[{"loc": ["body", "count"],
                                                                       "msg": "1..1000"}])
        now = utcnow()
        codes = [GiftCode(code=new_code(), gid=new_id("gft"), tier=tier, credits=credits,
                          expires_at=expires_at, created_at=now, created_by=created_by) for _ in range(count)]
        await self._codes.create_many(codes)
        return codes

    async def redeem(self, user_id: str, text: str, *, request_id: str | None) -> GiftCode:
        """Redeem a code once: 404 unknown, 409 already redeemed, 410 expired."""
        canonical = normalize(text)
        code = await self._codes.get(canonical) if canonical else None
        if code is None:
            raise NotFound("No such gift code.")
        now = utcnow()
        if code.redeemed_by:
            raise Conflict("This gift code was already redeemed.")
        if code.status(now) == "expired":
            raise Gone("This gift code has expired.")
        claimed = await self._codes.claim(code, user_id=user_id, now=now)
        if claimed is None:
            latest = await self._codes.get(code.code)
            if latest and latest.redeemed_by:
                raise Conflict("This gift code was already redeemed.")
            raise Gone("This gift code has expired.")
        await self._apply(claimed, request_id=request_id)
        return claimed

    async def list(self, *, limit: int = 20, cursor: str | None = None) -> tuple[list[GiftCode], str | None]:
        """A page of codes, newest first."""
        rows = await self._codes.list(limit=limit + 1, cursor=cursor)
        return rows[:limit], rows[limit - 1].gid if len(rows) > limit else None

    async def reconcile(self, *, older_than_s: float = 60.0) -> int:
        """Credit codes claimed but never credited (a crash between the two steps)."""
        stale = await self._codes.uncredited(redeemed_before=utcnow() - timedelta(seconds=older_than_s))
        for code in stale:
            await self._apply(code, request_id=None)
        return len(stale)

    async def _apply(self, code: GiftCode, *, request_id: str | None) -> None:
        assert code.redeemed_by is not None
        await self._credits.redeem_gift(code.redeemed_by, code=code.code, tier=code.tier,
                                        credits=code.credits, request_id=request_id)
        await self._codes.mark_credited(code.code)
