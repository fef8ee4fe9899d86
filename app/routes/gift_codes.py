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
    return await container().credits.gift_codes_controller.redeem(g.principal, data,
                                                                  request_id=current_request_id())


@bp.post("/api/v1/admin/gift-codes")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@request_body(json=CreateGiftCodesDoc)  # documents the one-of; validated with CreateGiftCodesIn
@validate_request(CreateGiftCodesIn)
@validate_response(GiftCodesOut, 201)
async def create_gift_codes(data: CreateGiftCodesIn):
    """Create 1..1000 codes carrying a gift tier or plain credits, optionally expiring."""
    return await container().credits.gift_codes_controller.create(g.principal, data)


@bp.get("/api/v1/admin/gift-codes")
@require_role(Role.ADMIN)
@policy(open_in_maintenance=True)
@validate_querystring(GiftCodeQuery)
@validate_response(GiftCodePageOut)
async def list_gift_codes(query_args: GiftCodeQuery):
    """Codes, newest first, with status (active, redeemed, expired), redeemed_by and redeemed_at."""
    return await container().credits.gift_codes_controller.list(query_args)
