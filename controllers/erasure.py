"""Account deletion (contract §20): HTTP ⇄ AccountErasure."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from controllers.schemas.identity import DeleteMeIn
from middlewares.body import parse_json
from services.admin.erasure import AccountErasure
from services.platform.errors import ValidationFailed
from services.platform.principal import Principal


def delete_me_body(raw: bytes) -> DeleteMeIn:
    """The optional body of `DELETE /api/v1/me`: none, or `{"password"}` (an unknown field is a 422)."""
    if not raw.strip():
        return DeleteMeIn()
    try:
        return DeleteMeIn.model_validate(parse_json(raw))
    except ValidationError as exc:
        raise ValidationFailed("The request body is not valid.", errors=[
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]) from None


class ErasureController:
    def __init__(self, erasure: AccountErasure) -> None:
        self._erasure = erasure

    async def delete_me(self, principal: Principal, raw: bytes) -> tuple[dict[str, Any], int]:
        """202: the caller's account is deleted."""
        body = delete_me_body(raw)
        erased = await self._erasure.delete_own(principal.require_user_id(), password=body.password)
        return erased.as_dict(), 202

    async def delete_user(self, principal: Principal, user_id: str) -> tuple[dict[str, Any], int]:
        """202: an admin deleted the user's account."""
        erased = await self._erasure.delete_user(user_id, admin_id=principal.user_id)
        return erased.as_dict(), 202
