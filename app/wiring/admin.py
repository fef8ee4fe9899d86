"""Admin: users and roles, credit adjustments, live settings, stats, account deletion (contract §20)."""

from __future__ import annotations

from dataclasses import dataclass

from app.wiring.adapters import CHAT_ADAPTERS, IMAGE_ADAPTERS
from app.wiring.chat import ChatParts
from app.wiring.credits import CreditsParts
from app.wiring.identity import IdentityParts
from app.wiring.media import MediaParts
from app.wiring.payments import PaymentsParts
from app.wiring.platform import PlatformParts
from controllers.admin_settings import AdminSettingsController
from controllers.admin_users import AdminUsersController
from repositories.admin_stats import MongoAdminStatsRepository
from services.admin.erasure import AccountErasure
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


def wire_admin(platform: PlatformParts, credits: CreditsParts, identity: IdentityParts, chat: ChatParts,
               media: MediaParts, payments: PaymentsParts) -> AdminParts:
    catalog, live, known = platform.catalog, platform.live_settings, platform.known_providers
    stats_repository = MongoAdminStatsRepository(platform.database.db)
    admin = AdminService(identity.users, platform.audit_log, stats_repository, credits=credits.service,
                         plan_role=lambda name: catalog.plan_or_raise(name).role)
    kinds = {name: [kind for kind, adapters in (("chat", CHAT_ADAPTERS), ("image", IMAGE_ADAPTERS))
                    if name in adapters] for name in known}
    stats = AdminStatsService(stats_repository, live, providers=known, breaker=platform.breaker,
                              provider_kinds=kinds, image_providers=[p.name for p in media.image_providers],
                              settle=credits.service.settle)
    erasure = AccountErasure(identity.users, identity.api_keys, chat.service, [media.images, media.videos],
                             media.shares, chat.responses, subscriptions=payments.subscriptions,
                             accounts=identity.accounts,
                             clerk=identity.clerk_users)
    return AdminParts(stats_repository=stats_repository, service=admin, stats=stats,
                      erasure=erasure,
                      settings_controller=AdminSettingsController(live, admin),
                      users_controller=AdminUsersController(admin, stats))
