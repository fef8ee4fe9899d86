"""Gift code routes: redemption (contract §3) and admin creation/listing (contract §9)."""

from __future__ import annotations

from quart import Blueprint, g
from quart_schema import validate_querystring, validate_request, validate_response

from app.openapi import problems
from app.routes.deps import container
from controllers.schemas.common import CreditsOut
from controllers.schemas.gift_codes import (
    CreateGiftCodesDoc,
    CreateGiftCodesIn,
    GiftCodePageOut,
    GiftCodeQuery,
    GiftCodesOut,
    RedeemIn,
)
from middlewares.access import require_role
from middlewares.body import request_body
from middlewares.idempotency import idempotent
from middlewares.policy import policy
from middlewares.request_id import current_request_id
from services.platform.clock import utcnow
from services.platform.principal import Role

bp = Blueprint("gift_codes", __name__)


@bp.post("/api/v1/gift-codes/redeem")
@require_role(Role.USER)
@policy()
@problems(404, 409, 410)
@idempotent
@validate_request(RedeemIn)
@validate_response(CreditsOut)
async def redeem_gift_code(data: RedeemIn):
    """Redeem a gift code (case-insensitive); the caller's credits afterwards.

    404 unknown code, 409 already redeemed, 410 expired. Accepts `Idempotency-Key`."""
    credits = container().credits
    await credits.gift_codes.redeem(g.principal.require_user_id(), data.code, request_id=current_request_id())
    return await credits.service.summary(g.principal.require_user_id(), plan=g.principal.plan)


@bp.post("/api/v1/admin/gift-codes")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@request_body(json=CreateGiftCodesDoc)  # documents the one-of; validated with CreateGiftCodesIn
@validate_request(CreateGiftCodesIn)
@validate_response(GiftCodesOut, 201)
async def create_gift_codes(data: CreateGiftCodesIn):
    """Create 1..1000 codes carrying a gift tier or plain credits, optionally expiring."""
    codes = await container().credits.gift_codes.create(
        count=data.count, tier=data.tier, credits=data.credits, expires_at=data.expires_at,
        created_by=g.principal.user_id)
    now = utcnow()
    return {"codes": [c.public(now) for c in codes]}, 201


@bp.get("/api/v1/admin/gift-codes")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_querystring(GiftCodeQuery)
@validate_response(GiftCodePageOut)
async def list_gift_codes(query_args: GiftCodeQuery):
    """Codes, newest first, with status (active, redeemed, expired), redeemed_by and redeemed_at."""
    codes = container().credits.gift_codes
    items, cursor = await codes.list(limit=query_args.limit, cursor=query_args.cursor)
    now = utcnow()
    return {"items": [c.public(now) for c in items], "next_cursor": cursor}
