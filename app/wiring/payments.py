"""Payments: credit-pack checkout, subscriptions, payment webhooks (PayPal, Stripe) and the reconcile job."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.wiring.adapters import payment_factories
from app.wiring.credits import CreditsParts
from app.wiring.identity import IdentityParts
from app.wiring.overrides import Overrides
from app.wiring.platform import PlatformParts
from controllers.payments import PaymentsController
from repositories.payment_customers import BeanieCustomerRepository
from repositories.payments import BeaniePaymentRepository, BeanieSubscriptionRepository
from services.payments.customers import PaymentCustomers
from services.payments.ports import PaymentsProvider
from services.payments.providers import PaymentProviders
from services.payments.reconcile import PaymentReconciler
from services.payments.service import PaymentService
from services.payments.subscription_reconcile import SubscriptionReconciler
from services.payments.subscriptions import SubscriptionService
from services.payments.webhooks import PaymentWebhookService


@dataclass(frozen=True, kw_only=True)
class PaymentsParts:
    providers: PaymentProviders
    paypal: PaymentsProvider | None  # PayPal's adapter (or a test's in its place)
    records: BeaniePaymentRepository
    service: PaymentService
    subscriptions: SubscriptionService
    paypal_webhooks: PaymentWebhookService
    stripe_webhooks: PaymentWebhookService
    reconciler: PaymentReconciler
    subscription_reconciler: SubscriptionReconciler
    controller: PaymentsController

    async def aclose(self) -> None:
        stripe = self.providers.find("stripe")
        if (aclose := getattr(stripe, "aclose", None)) is not None:  # the SDK's httpx client owns connections
            await aclose()


def wire_payments(s: Settings, o: Overrides, platform: PlatformParts, credits: CreditsParts,
                  identity: IdentityParts) -> PaymentsParts:
    providers = PaymentProviders([build() for build in payment_factories(s, o.payments_provider).values()])
    records, customers = BeaniePaymentRepository(), PaymentCustomers(BeanieCustomerRepository())
    catalog = platform.catalog
    payments = PaymentService(records, providers, catalog, credits.service, customers,
                              api_base=f"{s.public_base_url}/api/v1/payments",
                              success_redirect=s.checkout_success_url, cancel_redirect=s.checkout_cancel_url,
                              portal_return_url=f"{s.public_base_url}/")
    subscription_records = BeanieSubscriptionRepository()
    subscriptions = SubscriptionService(subscription_records, providers, catalog, identity.users,
                                        customers, return_url=s.checkout_success_url,
                                        cancel_url=s.checkout_cancel_url)
    paypal = providers.find(o.payments_provider.name if o.payments_provider else "paypal")
    events = identity.webhook_events
    stripe_webhooks = PaymentWebhookService(providers.find("stripe"), events, payments, subscriptions)
    paypal_webhooks = PaymentWebhookService(paypal, events, payments, subscriptions)
    return PaymentsParts(
        providers=providers, paypal=paypal, records=records, service=payments, subscriptions=subscriptions,
        paypal_webhooks=paypal_webhooks, stripe_webhooks=stripe_webhooks,
        reconciler=PaymentReconciler(records, payments, older_than_s=s.payments_reconcile_after_s,
                                     expire_after_s=s.payments_expire_after_s,
                                     batch=s.payments_reconcile_batch),
        subscription_reconciler=SubscriptionReconciler(subscription_records, subscriptions),
        controller=PaymentsController(payments, credits.service))
