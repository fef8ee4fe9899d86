"""Identity: users, API keys, sign-in (Clerk, development tokens or Muse's own accounts with
sessions, issue 18), Clerk webhooks, the mail port and the development outbox."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.config import Settings
from app.wiring.credits import CreditsParts
from app.wiring.overrides import Overrides
from app.wiring.platform import PlatformParts
from controllers.accounts import AccountsController
from controllers.api_keys import ApiKeysController
from controllers.dev_outbox import DevOutboxController
from controllers.me import MeController
from providers.argon2_hasher import Argon2PasswordHasher
from providers.clerk import ClerkTokenVerifier, ClerkUsersClient, ClerkWebhookVerifier
from providers.dev_keys import ensure_dev_key_pair
from providers.session_tokens import RsaSessionTokenSigner
from providers.smtp_email import SmtpEmailSender
from providers.zxcvbn_strength import ZxcvbnStrength
from repositories.accounts import (
    BeanieAccountRepository,
    BeanieOneTimeTokenRepository,
    BeanieSessionRepository,
    CachedSessionRepository,
)
from repositories.api_keys import BeanieApiKeyRepository, CachedApiKeyRepository
from repositories.dev_outbox import RedisOutbox
from repositories.rate_limit import RedisBucketStore
from repositories.users import BeanieUserRepository, CachedUserRepository, TombstoneCache
from repositories.webhook_events import BeanieWebhookEventRepository
from services.identity.accounts import AccountService
from services.identity.api_keys import ApiKeyService
from services.identity.auth import AuthService
from services.identity.login_throttle import LoginThrottle
from services.identity.passwords import PasswordPolicy, load_common_passwords
from services.identity.ports.email import EmailSender
from services.identity.ports.identity import TokenVerifier
from services.identity.sessions import SessionService, SessionVerifier
from services.identity.users import UserService
from services.identity.webhooks import ClerkEventService
from services.platform.catalog import Catalog
from services.platform.rate_limit import Limit


@dataclass(frozen=True, kw_only=True)
class IdentityParts:
    dev_tokens: bool  # development sign-in with var/'s key pair (no Clerk configured)
    users: UserService
    api_keys: ApiKeyService
    webhook_events: BeanieWebhookEventRepository
    sessions: SessionService | None  # Muse's own sessions (None unless local accounts are on)
    session_signer: RsaSessionTokenSigner | None
    token_verifier: TokenVerifier | None
    auth: AuthService
    clerk_events: ClerkEventService
    clerk_users: ClerkUsersClient | None  # Clerk's Backend API (profiles; deletion, contract §20)
    outbox: RedisOutbox | None
    mailer: EmailSender | None
    accounts: AccountService | None
    me_controller: MeController
    api_keys_controller: ApiKeysController
    accounts_controller: AccountsController
    dev_outbox_controller: DevOutboxController

    async def aclose(self) -> None:
        if self.accounts is not None:
            await self.accounts.aclose()


Sessions = tuple[SessionService | None, RsaSessionTokenSigner | None]


async def _sessions(s: Settings, platform: PlatformParts) -> Sessions:
    if not s.local_accounts:
        return None, None
    pem = s.auth_jwt_private_key.get_secret_value() if s.auth_jwt_private_key else None
    if pem is None:  # outside production (which requires AUTH_JWT_PRIVATE_KEY): the var/ key pair
        pem = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[0]
    signer = RsaSessionTokenSigner(pem)
    cache = TombstoneCache(platform.redis, prefix=f"{platform.namespace}session:",
                           local=platform.local_copies)
    sessions = SessionService(CachedSessionRepository(BeanieSessionRepository(), cache), signer,
                              access_ttl_s=s.auth_access_token_ttl_s, session_ttl_s=s.auth_session_ttl_s)
    return sessions, signer


def _accounts(s: Settings, platform: PlatformParts, sessions: SessionService | None, users: UserService,
              mailer: EmailSender | None) -> AccountService | None:
    """Email-and-password accounts (issue 18): with sessions and a way to send mail."""
    if sessions is None or mailer is None:
        return None
    window = s.auth_login_window_s
    throttle = LoginThrottle(
        RedisBucketStore(platform.redis), prefix=platform.namespace + "login:",
        ip=Limit(s.auth_login_ip_limit, s.auth_login_ip_limit / window),
        account=Limit(s.auth_login_account_limit, s.auth_login_account_limit / window))
    hasher = Argon2PasswordHasher(time_cost=s.auth_argon2_time_cost, memory_kib=s.auth_argon2_memory_kib,
                                  parallelism=s.auth_argon2_parallelism)
    policy = PasswordPolicy(load_common_passwords(), strength=ZxcvbnStrength(),
                            min_score=s.auth_password_min_score)
    return AccountService(BeanieAccountRepository(), BeanieOneTimeTokenRepository(), sessions, users,
                          hasher, policy, throttle, mailer, base_url=s.public_base_url,
                          require_verified_email=s.require_verified_email)


def _model_names(s: Settings, catalog: Catalog) -> list[str]:
    """Every model name a request may ask for: chat models, `default` and each image/video provider,
    and the embedding models."""
    return sorted({"default", *(m.name for m in catalog.models), *s.image_providers, *s.video_providers,
                   *(m.name for m in catalog.embedding_models)})


async def wire_identity(s: Settings, o: Overrides, platform: PlatformParts,
                        credits: CreditsParts) -> IdentityParts:
    sessions, signer = await _sessions(s, platform)
    secret = s.clerk_secret_key.get_secret_value() if s.clerk_secret_key else None
    jwt_key, dev_tokens = s.clerk_jwt_key, False
    if s.app_env == "development" and not (jwt_key or secret):
        jwt_key, dev_tokens = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[1], True
    ns = platform.namespace
    users = UserService(CachedUserRepository(
        BeanieUserRepository(),
        TombstoneCache(platform.redis, prefix=ns + "user:", local=platform.local_copies)),
                        admin_clerk_ids=s.admin_user_ids, on_created=[credits.service.grant_signup])
    key_cache = TombstoneCache(platform.redis, prefix=ns + "apikey:", local=platform.local_copies)
    api_keys = ApiKeyService(CachedApiKeyRepository(BeanieApiKeyRepository(), key_cache),
                             spend=credits.key_spend, known_models=lambda: _model_names(s, platform.catalog))
    webhook_events = BeanieWebhookEventRepository()
    verifier: TokenVerifier | None = o.token_verifier
    if verifier is None and sessions is not None and signer is not None:
        verifier = SessionVerifier(ClerkTokenVerifier(jwt_key=signer.public_pem), sessions,
                                   allow_foreign=dev_tokens)
    elif verifier is None and (jwt_key or secret):
        verifier = ClerkTokenVerifier(jwt_key=jwt_key, secret_key=secret, api_url=s.clerk_api_url,
                                      authorized_parties=s.clerk_authorized_parties)
    rapid = s.rapidapi_proxy_secret.get_secret_value() if s.rapidapi_proxy_secret else None
    profiles = ClerkUsersClient(secret_key=secret, api_url=s.clerk_api_url) if secret else None
    hook_secret = s.clerk_webhook_secret.get_secret_value() if s.clerk_webhook_secret else None
    clerk_events = ClerkEventService(users, api_keys, webhook_events,
                                     ClerkWebhookVerifier(hook_secret) if hook_secret else None)
    sender = s.mail_from or "Muse <no-reply@localhost>"
    outbox = None if s.smtp_url else RedisOutbox(platform.redis, key=ns + "outbox", sender=sender)
    mailer: EmailSender | None = o.mailer or (
        SmtpEmailSender(s.smtp_url.get_secret_value(), sender=sender) if s.smtp_url else outbox)
    accounts = _accounts(s, platform, sessions, users, mailer)
    return IdentityParts(
        dev_tokens=dev_tokens, users=users, api_keys=api_keys, webhook_events=webhook_events,
        sessions=sessions, session_signer=signer, token_verifier=verifier, clerk_events=clerk_events,
        clerk_users=profiles,
        outbox=outbox, mailer=mailer, accounts=accounts,
        auth=AuthService(users, api_keys, verifier, rapidapi_secret=rapid, dev_claims=dev_tokens,
                         profiles=profiles),
        me_controller=MeController(users, credits.service), api_keys_controller=ApiKeysController(api_keys),
        accounts_controller=AccountsController(accounts, secure_cookie=s.app_env != "development",
                                               cookie_max_age_s=s.auth_session_ttl_s),
        dev_outbox_controller=DevOutboxController(outbox, enabled=s.app_env == "development"))
