"""HTTP routes: URLs, decorators and docstrings only; the work happens in controllers."""

from __future__ import annotations

from quart import Quart
from werkzeug.routing import BaseConverter


class ResourceIdConverter(BaseConverter):
    """`<rid:image_id>`: a Muse id (`img_…`, type prefix + opaque part), so a static sibling such as
    `/api/v1/images/edits` is never also read as an id (a GET there is 405, not "no such image")."""

    regex = r"[a-z]{2,5}_[A-Za-z0-9_-]{1,64}"


def register_routes(app: Quart, *, web_app: bool) -> None:
    """Register every blueprint (the web app's too when `web_app`)."""
    app.url_map.converters["rid"] = ResourceIdConverter
    from app.routes.admin import bp as admin
    from app.routes.alerts import bp as alerts
    from app.routes.api_keys import bp as api_keys
    from app.routes.auth import bp as auth_local
    from app.routes.chat import bp as chat
    from app.routes.credits import bp as credits
    from app.routes.dev import bp as dev
    from app.routes.dev_outbox import bp as dev_outbox
    from app.routes.gift_codes import bp as gift_codes
    from app.routes.health import bp as health
    from app.routes.images import bp as images
    from app.routes.me import bp as me
    from app.routes.media import bp as media
    from app.routes.metrics import bp as metrics
    from app.routes.openai_api import bp as openai_api
    from app.routes.openai_responses import bp as openai_responses
    from app.routes.payments import bp as payments
    from app.routes.plans import bp as plans
    from app.routes.shares import bp as shares
    from app.routes.stripe import bp as stripe
    from app.routes.subscriptions import bp as subscriptions
    from app.routes.videos import bp as videos
    from app.routes.webhooks_clerk import bp as webhooks_clerk
    from app.routes.webhooks_paypal import bp as webhooks_paypal

    for blueprint in (health, chat, me, api_keys, webhooks_clerk,
                      payments, subscriptions, webhooks_paypal, admin, images, media,
                      plans, credits, gift_codes, auth_local, dev_outbox, openai_api, metrics, dev, shares,
                      stripe, videos, openai_responses, alerts):
        app.register_blueprint(blueprint)
    if web_app:
        from app.routes.webapp import bp as webapp

        app.register_blueprint(webapp)
