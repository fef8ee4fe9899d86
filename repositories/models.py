"""The registry of Muse's Beanie documents (what `init_beanie` is given)."""

from __future__ import annotations


def document_models() -> list[type]:
    """Every Beanie document of Muse; add new ones here (each derives from MuseDocument)."""
    from repositories.accounts import AccountDocument, OneTimeTokenDocument, SessionDocument
    from repositories.alerts import BudgetAlertDocument
    from repositories.api_keys import ApiKeyDocument
    from repositories.audit_log import AuditLogDocument
    from repositories.conversations import ConversationDocument, MessageDocument
    from repositories.credits import CreditAccountDocument
    from repositories.gift_codes import GiftCodeDocument
    from repositories.idempotency import IdempotencyRecordDocument
    from repositories.images import ImageDocument
    from repositories.job_runs import JobRunDocument
    from repositories.key_spend import KeySpendDocument
    from repositories.ledger import LedgerEntryDocument
    from repositories.live_settings import LiveSettingsDocument
    from repositories.payment_customers import PaymentCustomerDocument
    from repositories.payments import AccountFlagDocument, PaymentDocument, SubscriptionDocument
    from repositories.responses import ResponseDocument
    from repositories.shares import ShareLinkDocument
    from repositories.usage import UsageDailyDocument
    from repositories.users import UserDocument
    from repositories.videos import VideoDocument
    from repositories.webhook_events import WebhookEventDocument

    return [ConversationDocument, MessageDocument,
            CreditAccountDocument, LedgerEntryDocument, GiftCodeDocument, IdempotencyRecordDocument,
            JobRunDocument, UserDocument, ApiKeyDocument, WebhookEventDocument,
            LiveSettingsDocument, AuditLogDocument, ImageDocument, VideoDocument,
            PaymentDocument, SubscriptionDocument, AccountFlagDocument, ShareLinkDocument,
            AccountDocument, SessionDocument, OneTimeTokenDocument, PaymentCustomerDocument,
            KeySpendDocument, ResponseDocument, UsageDailyDocument, BudgetAlertDocument]
