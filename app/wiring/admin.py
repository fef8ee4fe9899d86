"""Admin: users and roles, credit adjustments, live settings, stats, account deletion (contract §20)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.wiring.adapters import CHAT_ADAPTERS, IMAGE_ADAPTERS
from app.wiring.chat import ChatParts
from app.wiring.credits import CreditsParts
from app.wiring.identity import IdentityParts
from app.wiring.media import MediaParts
from app.wiring.payments import PaymentsParts
from app.wiring.platform import PlatformParts
from controllers.admin_settings import AdminSettingsController
from controllers.admin_users import AdminUsersController
from controllers.exports import ExportController
from providers.zip_archives import ZipArchiveStore
from repositories.admin_analytics import MongoAnalyticsRepository
from repositories.admin_stats import MongoAdminStatsRepository
from repositories.alerts import MongoAlertStore
from repositories.exports import MongoExportRepository
from services.admin.alerts import BudgetAlerts
from services.admin.analytics import AnalyticsService
from services.admin.erasure import AccountErasure
from services.admin.export import DataExport
from services.admin.export_sources import AccountSources
from services.admin.service import AdminService
from services.admin.stats import AdminStatsService


@dataclass(frozen=True, kw_only=True)
class AdminParts:
    stats_repository: MongoAdminStatsRepository
    service: AdminService
    stats: AdminStatsService
    settings_controller: AdminSettingsController
    users_controller: AdminUsersController
    erasure: AccountErasure
    analytics: AnalyticsService
    alerts: BudgetAlerts
    export: DataExport
    export_controller: ExportController


def wire_admin(platform: PlatformParts, credits: CreditsParts, identity: IdentityParts, chat: ChatParts,
               media: MediaParts, payments: PaymentsParts, settings: Settings) -> AdminParts:
    catalog, live, known = platform.catalog, platform.live_settings, platform.known_providers
    stats_repository = MongoAdminStatsRepository(platform.database.db)
    admin = AdminService(identity.users, platform.audit_log, stats_repository, credits=credits.service,
                         plan_role=lambda name: catalog.plan_or_raise(name).role)
    kinds = {name: [kind for kind, adapters in (("chat", CHAT_ADAPTERS), ("image", IMAGE_ADAPTERS))
                    if name in adapters] for name in known}
    stats = AdminStatsService(stats_repository, live, providers=known, breaker=platform.breaker,
                              provider_kinds=kinds, image_providers=[p.name for p in media.image_providers],
                              settle=credits.service.settle)
    export = _wire_export(settings, platform, credits, identity, chat, media, payments)
    erasure = AccountErasure(identity.users, identity.api_keys, chat.conversations,
                             [media.images, media.videos], media.shares, chat.responses,
                             subscriptions=payments.subscriptions,
                             exports=export, accounts=identity.accounts,
                             clerk=identity.clerk_users)
    analytics = AnalyticsService(MongoAnalyticsRepository(platform.database.db, credits.rollup),
                                 settle=credits.service.settle)
    alerts = BudgetAlerts(MongoAlertStore(), credits.rollup, identity.users, identity.mailer,
                          base_url=settings.public_base_url, settle=credits.service.settle)
    credits.rollup.watchers.append(alerts.usage_moved)  # budget alerts are checked as usage lands
    return AdminParts(stats_repository=stats_repository, service=admin, stats=stats, analytics=analytics,
                      alerts=alerts, erasure=erasure, export=export,
                      export_controller=ExportController(export),
                      settings_controller=AdminSettingsController(live, admin),
                      users_controller=AdminUsersController(admin, stats))


def _wire_export(s: Settings, platform: PlatformParts, credits: CreditsParts, identity: IdentityParts,
                 chat: ChatParts,
                 media: MediaParts, payments: PaymentsParts) -> DataExport:
    """The data export (contract §20): its sections read through each domain's service, page by page."""
    async def messages(user_id: str, conversation_id: str) -> list[Any]:
        return (await chat.conversations.get_conversation(user_id, conversation_id))[1].messages

    async def payment_pages(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
        page = await payments.service.history(user_id, limit=limit, cursor=cursor)
        return page, (page[-1].id if len(page) == limit else None)

    sources = AccountSources(
        profile=identity.users.get_or_raise, conversations=chat.conversations.list_conversations,
        conversation_messages=messages, media=[media.images.list, media.videos.list],
        ledger=credits.service.ledger, payments=payment_pages,
        subscriptions=payments.subscriptions.list_for_user, api_keys=identity.api_keys.list)
    return DataExport(MongoExportRepository(platform.database.db), ZipArchiveStore(s.export_dir), sources,
                      platform.queue, platform.job_events, ttl_s=s.export_ttl_s)
