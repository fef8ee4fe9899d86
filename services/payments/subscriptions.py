"""Plan subscriptions at a payment processor (PayPal, Stripe), and the plan/role they give.

ACTIVE → the user gets the plan and the SUBSCRIBER role; CANCELLED, SUSPENDED or
EXPIRED → back to the default plan and USER, unless another subscription of
theirs is still active. An ADMIN is never demoted (UserService.set_plan).
CANCELLED and EXPIRED are final: a late ACTIVATED or renewal does not revive them.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from services.payments.customers import PaymentCustomers
from services.payments.model import Subscription
from services.payments.ports import SubscriptionRepository, Users
from services.payments.providers import PaymentProviders
from services.platform.catalog import Catalog
from services.platform.clock import utcnow
from services.platform.errors import Conflict, NotFound, ValidationFailed
from services.platform.ids import new_id
from services.platform.principal import Role

log = structlog.stdlib.get_logger("muse.subscriptions")

FINAL = ("CANCELLED", "EXPIRED")




def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class SubscriptionService:
    """Create, read and cancel subscriptions; apply the processors' subscription events."""

    def __init__(
        self, subscriptions: SubscriptionRepository, providers: PaymentProviders, catalog: Catalog,
        users: Users, customers: PaymentCustomers, *, return_url: str, cancel_url: str,
    ) -> None:
        self._subs, self._providers, self._catalog, self._users = subscriptions, providers, catalog, users
        self._customers = customers
        self._return_url, self._cancel_url = return_url, cancel_url

    async def create(self, user_id: str, plan_name: str, *, request_id: str | None,
                     provider_name: str | None = None) -> Subscription:
        """Start a subscription to `plan_name`; the buyer approves it at `approve_url`."""
        provider = self._providers.get(provider_name)
        plan = self._catalog.plan_or_raise(plan_name)
        external_plan_id = provider.external_plan_id(plan.name)
        if not external_plan_id:
            raise ValidationFailed(f"The plan {plan_name!r} cannot be subscribed to.", errors=[
                {"loc": ["body", "plan"], "msg": f"plan has no {provider.name} plan id"}])
        current = await self._subs.current_for_user(user_id)
        if current is not None and current.status in ("ACTIVE", "SUSPENDED"):
            raise Conflict("You already have a subscription; cancel it first.", subscription_id=current.id)
        now = utcnow()
        sub = await self._subs.create(Subscription(
            id=new_id("sub"), user_id=user_id, plan=plan.name, provider=provider.name,
            external_plan_id=external_plan_id,
            created_at=now, updated_at=now))
        customer_id = await self._customers.ensure(provider, user_id)
        info = await provider.start_subscription(
            plan=plan.name, custom_id=sub.id, cancel_url=self._cancel_url,
            return_url=f"{self._return_url}?subscription={sub.id}", request_id=f"subscribe-{sub.id}",
            customer_id=customer_id)
        log.info("subscription_created", subscription_id=sub.id, external_id=info.id, plan=plan.name)
        updated = await self._subs.update(sub.id, {
            "external_id": info.id, "approve_url": info.approve_url,
            "status": info.status or sub.status})
        return updated or sub

    async def find_current(self, user_id: str) -> Subscription | None:
        """The user's live subscription, or None."""
        return await self._subs.current_for_user(user_id)

    async def current(self, user_id: str) -> Subscription:
        """The user's live subscription; 404 when there is none."""
        sub = await self._subs.current_for_user(user_id)
        if sub is None:
            raise NotFound("You have no subscription.")
        return sub

    async def cancel_current(self, user_id: str, *,
                             reason: str = "Cancelled by the subscriber") -> Subscription:
        """Cancel the user's subscription at its processor, and its plan at once."""
        sub = await self.current(user_id)
        if sub.external_id:
            await self._providers.get(sub.provider).cancel_subscription(sub.external_id, reason=reason)
        return await self._set_status(sub, "CANCELLED")

    async def list_for_user(self, user_id: str) -> list[Subscription]:
        """Every subscription of the user, ended ones too (the data export)."""
        return await self._subs.list_for_user(user_id)

    async def cancel_all(self, user_id: str, *, reason: str) -> int:
        """Cancel every live subscription of the user (pending checkouts too) at its processor, then here;
        how many. A processor that refuses or is down raises (UpstreamError) for that subscription: the
        caller (account deletion) stops, and a retry cancels what is still live."""
        count = 0
        for sub in await self._subs.list_live_for_user(user_id):
            if sub.external_id:
                await self._providers.get(sub.provider).cancel_subscription(sub.external_id, reason=reason)
            await self._set_status(sub, "CANCELLED")
            log.info("subscription_cancelled", subscription_id=sub.id, user_id=user_id, reason=reason)
            count += 1
        return count

    async def apply_event(self, external_id: str, status: str, *, provider: str, custom_id: str | None = None,
                          next_billing_time: str | None = None) -> Subscription | None:
        """A subscription status event of `provider`: record the status and switch the plan/role."""
        sub = await self._find(provider, external_id, custom_id)
        if sub is None:
            log.info("subscription_event_unknown", external_id=external_id)
            return None
        extra = {"current_period_end": _parse_time(next_billing_time)} if next_billing_time else {}
        return await self._set_status(sub, status, external_id=external_id, **extra)

    async def renewed(self, external_id: str, *, provider: str,
                      custom_id: str | None = None) -> Subscription | None:
        """A paid period of a subscription (PayPal PAYMENT.SALE.COMPLETED, Stripe invoice.paid): the plan
        stays (or turns) on."""
        sub = await self._find(provider, external_id, custom_id)
        if sub is None:
            return None
        fields: dict[str, object] = {"last_payment_at": utcnow(), "external_id": external_id}
        adapter = self._providers.find(provider)
        if adapter is not None:
            try:
                info = await adapter.get_subscription(external_id)
                fields["current_period_end"] = _parse_time(info.next_billing_time)
            except Exception as exc:  # the renewal itself is what matters; the date is a nicety
                log.warning("subscription_refresh_failed", external_id=external_id, error=str(exc))
        return await self._set_status(sub, "ACTIVE", **fields)

    async def reconcile(self, sub: Subscription) -> str:
        """Bring one subscription (and its user's plan and role) in line with its processor; the
        outcome: `changed`, `roles` (only the user was out of line), `unchanged` or `skipped`."""
        adapter = self._providers.find(sub.provider)
        if adapter is None or not sub.external_id:
            return "skipped"  # its processor is no longer configured: nothing to ask
        try:
            info = await adapter.get_subscription(sub.external_id)
        except NotFound:
            log.info("subscription_unknown_at_processor", subscription_id=sub.id, provider=sub.provider)
            await self._set_status(sub, "EXPIRED")
            return "changed"
        status = info.status or sub.status
        if status != sub.status or (info.id != sub.external_id and status != "APPROVAL_PENDING"):
            period = _parse_time(info.next_billing_time)
            extra = {"current_period_end": period} if period else {}
            external = info.id if status != "APPROVAL_PENDING" else sub.external_id
            await self._set_status(sub, status, external_id=external, **extra)
            log.info("subscription_reconciled", subscription_id=sub.id, before=sub.status, after=status)
            return "changed"
        return "roles" if await self._user_out_of_line(sub) else "unchanged"

    async def _user_out_of_line(self, sub: Subscription) -> bool:
        """Re-apply the plan and role `sub` gives when the user's differ; True when they did."""
        user = await self._users.get(sub.user_id)
        if user is None:
            return False
        if sub.status == "ACTIVE":
            wrong = user.plan != sub.plan or (user.role < Role.SUBSCRIBER)
        elif sub.status == "SUSPENDED":
            wrong = user.plan != self._catalog.default_plan and \
                await self._subs.count_active(sub.user_id, excluding=sub.id) == 0
        else:
            return False
        if wrong:
            await self._sync_user(sub)
            log.info("subscription_user_realigned", subscription_id=sub.id, user_id=sub.user_id)
        return wrong

    async def _find(self, provider: str, external_id: str, custom_id: str | None) -> Subscription | None:
        sub = await self._subs.get_by_external_id(provider, external_id)
        if sub is None and custom_id:
            sub = await self._subs.get(custom_id)
        return sub if sub is not None and sub.provider == provider else None

    async def _set_status(self, sub: Subscription, status: str, **fields: object) -> Subscription:
        if sub.status in FINAL and status not in FINAL:
            log.info("subscription_event_ignored", subscription_id=sub.id, status=status, current=sub.status)
            return sub
        if status in FINAL and sub.status not in FINAL:
            fields["cancelled_at"] = utcnow()
        updated = await self._subs.update(sub.id, {"status": status, **fields}) or sub
        await self._sync_user(updated)
        return updated

    async def _sync_user(self, sub: Subscription) -> None:
        if sub.status == "ACTIVE":
            await self._users.set_plan(sub.user_id, sub.plan, role=Role.SUBSCRIBER)
            log.info("subscription_plan_on", user_id=sub.user_id, plan=sub.plan)
        elif sub.status in ("CANCELLED", "SUSPENDED", "EXPIRED"):
            if await self._subs.count_active(sub.user_id, excluding=sub.id) == 0:
                await self._users.set_plan(sub.user_id, self._catalog.default_plan, role=Role.USER)
                log.info("subscription_plan_off", user_id=sub.user_id, status=sub.status)
