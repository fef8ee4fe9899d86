"""Muse's own accounts (contract §17); 404 unless AUTH_PROVIDER=local."""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import validate_request, validate_response

from app.openapi import problems
from app.routes.deps import container
from controllers.accounts import session_token
from controllers.schemas.accounts import (
    AcceptedOut,
    ForgotIn,
    LoginIn,
    RegisterIn,
    ResetIn,
    SessionOut,
    TokenIn,
    VerifiedOut,
)
from middlewares.access import public
from middlewares.client_ip import client_ip
from middlewares.policy import policy

bp = Blueprint("auth_local", __name__)


@bp.post("/api/v1/auth/register")
@public
@problems(404, 409)  # 404: AUTH_PROVIDER is not `local`
@policy()
@validate_request(RegisterIn)
@validate_response(SessionOut, 201)
async def register(data: RegisterIn):
    """Create an account (email, password of 10+ characters, optional name) and sign in."""
    return await container().identity.accounts_controller.register(data)


@bp.post("/api/v1/auth/login")
@public
@problems(401, 404)  # 404: AUTH_PROVIDER is not `local`
@policy()
@validate_request(LoginIn)
@validate_response(SessionOut, 200)
async def login(data: LoginIn):
    """Sign in with email and password; failed attempts are limited per IP and per account."""
    return await container().identity.accounts_controller.login(data, ip=client_ip(request))


@bp.post("/api/v1/auth/logout")
@public
@problems(401, 404)  # 404: AUTH_PROVIDER is not `local`
@policy()
async def logout():
    """End the caller's session at once, in every process, and clear the session cookie."""
    token = session_token(request.headers, request.cookies)
    return await container().identity.accounts_controller.logout(token)


@bp.post("/api/v1/auth/refresh")
@public
@problems(401, 404)  # 404: AUTH_PROVIDER is not `local`
@policy()
@validate_response(SessionOut, 200)
async def refresh():
    """A renewed session token (the current one, even expired, from the header or the cookie)."""
    token = session_token(request.headers, request.cookies)
    return await container().identity.accounts_controller.refresh(token)


@bp.post("/api/v1/auth/verify-email")
@public
@problems(404, 410)  # 404: AUTH_PROVIDER is not `local`
@policy()
@validate_request(TokenIn)
@validate_response(VerifiedOut, 200)
async def verify_email(data: TokenIn):
    """Confirm the email address with the token mailed at registration."""
    return await container().identity.accounts_controller.verify_email(data)


@bp.post("/api/v1/auth/password/forgot")
@public
@problems(404)  # 404: AUTH_PROVIDER is not `local`
@policy()
@validate_request(ForgotIn)
@validate_response(AcceptedOut, 202)
async def forgot_password(data: ForgotIn):
    """Mail a password-reset link; always 202, whether or not the account exists."""
    return await container().identity.accounts_controller.forgot_password(data)


@bp.post("/api/v1/auth/password/reset")
@public
@problems(404, 410)  # 404: AUTH_PROVIDER is not `local`
@policy()
@validate_request(ResetIn)
@validate_response(SessionOut, 200)
async def reset_password(data: ResetIn):
    """Set a new password with a single-use reset token (1 h); every other session ends."""
    return await container().identity.accounts_controller.reset_password(data)
