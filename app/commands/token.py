"""`python -m app token --user ID [--role ROLE] [--email E]`: a development session token.

Signs with the key pair kept under `var/dev-jwt/` (the one the development app verifies
with, through the same Clerk verification path). Refused outside development, and when
Clerk is configured (real tokens come from Clerk then).
"""

from __future__ import annotations

import argparse
import sys

from app.commands.common import bounded_int
from app.config import load_settings
from services.platform.principal import Role


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `token` command."""
    parser = subparsers.add_parser("token", help="print a development session token (development only)")
    parser.add_argument("--user", required=True, help="Clerk-style user ID (the token's `sub`)")
    parser.add_argument("--role", choices=[r.name for r in Role], type=str.upper, default=None,
                        help="role applied to the user when the token is first used")
    parser.add_argument("--email", default=None)
    parser.add_argument("--ttl", type=bounded_int(1, 366 * 24 * 3600), default=24 * 3600,
                        help="lifetime in seconds")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the token, or refuse outside development."""
    from providers.dev_keys import ensure_dev_key_pair, mint_token

    settings = load_settings()
    if settings.app_env != "development":
        print(f"muse: `token` is for development only (APP_ENV={settings.app_env})", file=sys.stderr)
        return 2
    if settings.clerk_jwt_key or settings.clerk_secret_key:
        print("muse: Clerk is configured; sign in through Clerk to get a token", file=sys.stderr)
        return 2
    private_pem, _ = ensure_dev_key_pair(settings.var_dir)
    azp = settings.clerk_authorized_parties[0] if settings.clerk_authorized_parties else None
    claims = {"email": args.email, "muse_role": args.role}
    print(mint_token(private_pem, args.user, ttl_s=args.ttl, azp=azp, **claims))
    return 0
