"""`python -m app credits grant|show|reconcile`, `python -m app gift-codes create` and
`python -m app subscriptions reconcile`."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from app.commands.common import (
    bounded_int,
    json_command,
    non_negative_float,
    positive_float,
    rfc3339,
    run_with_container,
)
from app.wiring import Container
from services.platform.clock import isoformat, utcnow
from services.platform.errors import NotFound
from services.platform.ids import new_id


async def _user(container: Container, ref: str) -> Any:
    """A user by Muse id (usr_…) or Clerk id."""
    users = container.identity.users
    user = await users.get(ref) if ref.startswith("usr_") else await users.get_by_clerk_id(ref)
    if user is None:
        raise NotFound(f"No user {ref!r}.")
    return user


def _grant(args: argparse.Namespace) -> dict[str, Any]:
    async def work(container: Container) -> dict[str, Any]:
        user = await _user(container, args.user)
        ref = args.ref or new_id("cli")
        granted = await container.credits.service.grant(user.id, args.amount, ref=ref, reason=args.reason,
                                                        request_id=None)
        return {"user_id": user.id, "granted": granted, "ref": ref,
                "credits": await container.credits.service.summary(user.id, plan=user.plan)}

    return run_with_container(work)


def _show(args: argparse.Namespace) -> dict[str, Any]:
    async def work(container: Container) -> dict[str, Any]:
        from controllers.schemas.common import entry_out

        user = await _user(container, args.user)
        items, _ = await container.credits.service.ledger(user.id, limit=args.limit)
        return {"user_id": user.id, "plan": user.plan,
                "credits": await container.credits.service.summary(user.id, plan=user.plan),
                "audit": await container.credits.service.audit(user.id),
                "ledger": [entry_out(op) for op in items]}

    return run_with_container(work)


def _reconcile(args: argparse.Namespace) -> dict[str, Any]:
    async def work(container: Container) -> dict[str, Any]:
        from app.credit_jobs import reconcile_all

        return await reconcile_all(container.credits, container.settings, older_than_s=args.older_than)

    return run_with_container(work)


def _create_codes(args: argparse.Namespace) -> dict[str, Any]:
    expires_at: datetime | None = None
    if args.expires_at:
        expires_at = args.expires_at
    elif args.days:
        expires_at = utcnow() + timedelta(days=args.days)

    async def work(container: Container) -> dict[str, Any]:
        codes = await container.credits.gift_codes.create(
            count=args.count, tier=args.tier, credits=args.credits, expires_at=expires_at, created_by="cli")
        return {"codes": [c.code for c in codes], "tier": args.tier, "credits": args.credits,
                "expires_at": isoformat(expires_at)}

    return run_with_container(work)


_run = partial(json_command, prefix="error")  # a JSON-printing handler; errors as "error: ..."


def _reconcile_subscriptions(args: argparse.Namespace) -> dict[str, Any]:
    async def work(container: Container) -> dict[str, Any]:
        return await container.payments.subscription_reconciler.run()

    return run_with_container(work)


def register(subparsers: Any) -> None:
    """Add the `credits`, `gift-codes` and `subscriptions` commands."""
    credits = subparsers.add_parser("credits", help="inspect and change credit accounts")
    sub = credits.add_subparsers(dest="credits_command", required=True)
    grant = sub.add_parser("grant", help="grant balance credits to a user (once per --ref)")
    grant.add_argument("--user", required=True, help="Muse user id (usr_…) or Clerk user id")
    grant.add_argument("--amount", type=bounded_int(1, 1_000_000_000), required=True,
                       help="credits to add (a positive integer)")
    grant.add_argument("--reason", default="cli grant")
    grant.add_argument("--ref", default=None, help="idempotency reference (default: a new one)")
    grant.set_defaults(handler=_run(_grant))
    show = sub.add_parser("show", help="a user's credits, ledger audit and latest entries")
    show.add_argument("--user", required=True)
    show.add_argument("--limit", type=bounded_int(1, 1000), default=10)
    show.set_defaults(handler=_run(_show))
    reconcile = sub.add_parser("reconcile", help="write ledger entries of ops interrupted by a crash")
    reconcile.add_argument("--older-than", type=non_negative_float, default=None,
                           help="seconds an op must be pending (default CREDITS_RECONCILE_AFTER_S)")
    reconcile.set_defaults(handler=_run(_reconcile))

    codes = subparsers.add_parser("gift-codes", help="gift codes")
    codes_sub = codes.add_subparsers(dest="gift_codes_command", required=True)
    create = codes_sub.add_parser("create", help="create gift codes and print them")
    kind = create.add_mutually_exclusive_group(required=True)
    kind.add_argument("--tier", help="gift tier, e.g. gift_999")
    kind.add_argument("--credits", type=bounded_int(1, 1_000_000_000), help="plain balance credits")
    create.add_argument("--count", type=bounded_int(1, 1000), default=1)
    expiry = create.add_mutually_exclusive_group()
    expiry.add_argument("--expires-at", type=rfc3339, help="RFC 3339 time")
    expiry.add_argument("--days", type=positive_float, help="valid for this many days")
    create.set_defaults(handler=_run(_create_codes))

    subs = subparsers.add_parser("subscriptions", help="plan subscriptions at PayPal and Stripe")
    subs_sub = subs.add_subparsers(dest="subscriptions_command", required=True)
    check = subs_sub.add_parser("reconcile",
                                help="bring subscriptions, plans and roles in line with the processors")
    check.set_defaults(handler=_run(_reconcile_subscriptions))
