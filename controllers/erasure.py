"""Account deletion (contract §20): HTTP ⇄ AccountErasure."""

from __future__ import annotations

from pydantic import ValidationError

from controllers.schemas.identity import DeleteMeIn
from middlewares.body import parse_json
from services.platform.errors import ValidationFailed


def delete_me_body(raw: bytes) -> DeleteMeIn:
    """The optional body of `DELETE /api/v1/me`: none, or `{"password"}` (an unknown field is a 422)."""
    if not raw.strip():
        return DeleteMeIn()
    try:
        return DeleteMeIn.model_validate(parse_json(raw))
    except ValidationError as exc:
        raise ValidationFailed("The request body is not valid.", errors=[
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]) from None
