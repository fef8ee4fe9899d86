"""The edges beside /api/v1: the OpenAI-compatible /v1 (contract §12) and what the web app needs
(development sign-in, client configuration, contract §11)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.config import Settings
from app.problems import status_of
from app.wiring.chat import ChatParts
from app.wiring.embeddings import EmbeddingParts
from app.wiring.identity import IdentityParts
from app.wiring.media import MediaParts
from app.wiring.platform import PlatformParts
from controllers.dev import DevController
from controllers.openai_api import OpenAIController
from controllers.openai_embeddings import EmbeddingsController
from controllers.openai_responses import ResponsesController
from providers.dev_keys import DevTokenMinter, ensure_dev_key_pair


@dataclass(frozen=True, kw_only=True)
class WebParts:
    openai_controller: OpenAIController
    responses_controller: ResponsesController
    embeddings_controller: EmbeddingsController
    dev_controller: DevController


async def wire_web(s: Settings, platform: PlatformParts, identity: IdentityParts, chat: ChatParts,
                   media: MediaParts, embeddings: EmbeddingParts) -> WebParts:
    private_pem = None
    if identity.dev_tokens:
        private_pem = (await asyncio.to_thread(ensure_dev_key_pair, s.var_dir))[0]
    clerk = bool(s.clerk_publishable_key or s.clerk_secret_key or s.clerk_jwt_key)
    provider = "local" if s.local_accounts else "clerk" if clerk else "none"
    if identity.dev_tokens and provider != "local":
        provider = "dev"
    azp = s.clerk_authorized_parties[0] if s.clerk_authorized_parties else None
    dev = DevController(
        DevTokenMinter(private_pem, azp=azp) if private_pem is not None else None,
        client_config={"app_env": s.app_env, "max_upload_mb": s.max_upload_mb,
                       "auth": {"provider": provider, "clerk_publishable_key": s.clerk_publishable_key}})
    openai = OpenAIController(chat.service, chat.stream, media.image_service, platform.catalog,
                              embeddings=embeddings.service, max_upload_mb=s.max_upload_mb,
                              status_of=status_of)
    responses = ResponsesController(openai, chat.service, chat.stream, chat.responses, status_of=status_of)
    return WebParts(openai_controller=openai, responses_controller=responses, dev_controller=dev,
                    embeddings_controller=EmbeddingsController(embeddings.service))
