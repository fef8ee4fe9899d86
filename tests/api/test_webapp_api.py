"""Contract §11 on the API side: CORS, development sign-in, share links, conversations by activity,
and the web app's HTML on its routes."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigurationError, load_settings
from services.platform.clock import clock
from tests.conftest import make_settings
from tests.fixtures.identity import auth_headers

ORIGIN = "https://app.example.com"


@pytest.fixture
async def cors_app(servers, tmp_path):
    application = create_app(make_settings(servers, tmp_path, cors_origins=f"{ORIGIN}, https://other.example"))
    async with application.test_app():
        yield application
        container = application.extensions["container"]
        await container.platform.database.client.drop_database(container.settings.mongodb_db)


def preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"}


async def test_allowed_origin_preflight_is_204_with_the_cors_headers_and_no_credentials(cors_app):
    response = await cors_app.test_client().options("/api/v1/images", headers=preflight(ORIGIN))
    assert response.status_code == 204
    h = response.headers
    assert h["Access-Control-Allow-Origin"] == ORIGIN
    assert h["Access-Control-Allow-Credentials"] == "true"
    assert {"POST", "DELETE", "PATCH"} <= {m.strip() for m in h["Access-Control-Allow-Methods"].split(",")}
    allowed = {x.strip().lower() for x in h["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "x-request-id"} <= allowed
    assert int(h["Access-Control-Max-Age"]) > 0


async def test_disallowed_origin_gets_no_cors_headers(cors_app):
    client = cors_app.test_client()
    pre = await client.options("/api/v1/images", headers=preflight("https://evil.example"))
    actual = await client.get("/api/v1/plans", headers={"Origin": "https://evil.example"})
    for response in (pre, actual):
        assert not [k for k in response.headers.keys() if k.lower().startswith("access-control-")]


async def test_actual_responses_to_an_allowed_origin_expose_the_useful_headers(cors_app):
    client = cors_app.test_client()
    ok = await client.get("/api/v1/plans", headers={"Origin": ORIGIN})
    denied = await client.get("/api/v1/me", headers={"Origin": ORIGIN})  # errors too
    for response in (ok, denied):
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        exposed = {x.strip() for x in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After",
                "Idempotent-Replayed", "Location"} <= exposed
    assert denied.status_code == 401


def test_a_wildcard_origin_is_refused_in_production(monkeypatch):
    for name, value in {"APP_ENV": "production", "MONGODB_URI": "mongodb://db", "REDIS_URL": "redis://r",
                        "CLERK_JWT_KEY": "k", "CLERK_WEBHOOK_SECRET": "s", "PUBLIC_BASE_URL": "https://muse.example",
                        "CORS_ORIGINS": "*"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        load_settings()


async def test_dev_token_is_404_outside_development(client):
    response = await client.post("/api/v1/dev/token", json={"user": "user_x", "role": "ADMIN"})
    assert response.status_code == 404
    assert (await client.get("/api/v1/client-config")).status_code == 200


async def test_dev_token_signs_in_with_the_chosen_role_in_development(servers, tmp_path):
    settings = make_settings(servers, tmp_path, app_env="development", clerk_jwt_key=None)
    application = create_app(settings)
    async with application.test_app():
        client = application.test_client()
        config = await (await client.get("/api/v1/client-config")).get_json()
        token = (await (await client.post("/api/v1/dev/token", json={"user": "user_dev", "role": "ADMIN"}))
                 .get_json())["token"]
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        bad = await client.post("/api/v1/dev/token", json={"user": "no spaces <here>"})
        await application.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert config["auth"]["provider"] == "dev"
    assert (await me.get_json())["role"] == "ADMIN"
    assert bad.status_code == 422


async def _finished_image(app, headers) -> str:
    client = app.test_client()
    body = {"prompt": "a <b>fox</b>", "wait": True}
    created = await client.post("/api/v1/images", headers=headers, json=body)
    assert created.status_code == 201, await created.get_data()
    return (await created.get_json())["id"]


@pytest.fixture
async def worker_app(servers, tmp_path):
    application = create_app(make_settings(servers, tmp_path, worker_in_process=True, signup_credits=10,
                                           public_base_url="https://muse.example"))
    async with application.test_app():
        yield application
        container = application.extensions["container"]
        await container.platform.database.client.drop_database(container.settings.mongodb_db)


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


async def test_share_link_is_public_escaped_revocable_and_dies_with_the_image(worker_app):
    app, client = worker_app, worker_app.test_client()
    owner = await auth_headers(app, "user_share_owner")
    image_id = await _finished_image(app, owner)
    first = await (await client.post(f"/api/v1/images/{image_id}/share", headers=owner)).get_json()
    again = await (await client.post(f"/api/v1/images/{image_id}/share", headers=owner)).get_json()
    assert first == again and first["url"] == f"https://muse.example/s/{first['token']}"
    assert len(first["token"]) >= 22  # ≥ 128 bits in base64url
    page = await client.get(f"/s/{first['token']}")  # no credentials
    html = (await page.get_data()).decode()
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    assert "a &lt;b&gt;fox&lt;/b&gt;" in html and "<b>fox" not in html
    stranger = await auth_headers(app, "user_share_stranger")
    assert (await client.post(f"/api/v1/images/{image_id}/share", headers=stranger)).status_code == 404
    assert (await client.delete(f"/api/v1/images/{image_id}/share", headers=owner)).status_code == 204
    revoked = await client.get(f"/s/{first['token']}")  # no Accept: a problem
    assert revoked.status_code == 404 and revoked.content_type.startswith("application/problem+json")
    browser = await client.get(f"/s/{first['token']}", headers={"Accept": BROWSER_ACCEPT})
    assert browser.status_code == 404 and browser.content_type.startswith("text/html")
    assert "This link no longer works" in (await browser.get_data()).decode()
    second = await (await client.post(f"/api/v1/images/{image_id}/share", headers=owner)).get_json()
    assert second["token"] != first["token"]
    assert (await client.delete(f"/api/v1/images/{image_id}", headers=owner)).status_code == 204
    assert (await client.get(f"/s/{second['token']}")).status_code == 404
    assert (await client.get("/s/not-a-real-token-at-all")).status_code == 404


async def test_conversations_list_by_latest_activity_and_can_be_renamed(chat_app):
    client = chat_app.test_client()
    headers = await auth_headers(chat_app, "user_activity")

    async def say(text: str, cid: str | None = None) -> str:
        body = {"messages": [{"role": "user", "content": text}], "conversation_id": cid}
        answer = await client.post("/api/v1/chat", headers=headers, json=body)
        return (await answer.get_json())["conversation_id"]

    older = await say("first")
    clock.offset += timedelta(seconds=5)
    newer = await say("second")
    clock.offset += timedelta(seconds=5)
    await say("back to the first", older)  # the continued chat moves to the top
    page = await (await client.get("/api/v1/conversations", headers=headers)).get_json()
    assert [c["id"] for c in page["items"]] == [older, newer]
    one = await (await client.get("/api/v1/conversations?limit=1", headers=headers)).get_json()
    rest = await (await client.get(f"/api/v1/conversations?limit=1&cursor={one['next_cursor']}",
                                   headers=headers)).get_json()
    assert [c["id"] for c in one["items"] + rest["items"]] == [older, newer]
    renamed = await client.patch(f"/api/v1/conversations/{newer}", headers=headers, json={"title": "Plans"})
    assert (await renamed.get_json())["title"] == "Plans"
    blank = await client.patch(f"/api/v1/conversations/{newer}", headers=headers, json={"title": "  "})
    assert blank.status_code == 422
    other = await auth_headers(chat_app, "user_activity_other")
    theirs = await client.patch(f"/api/v1/conversations/{newer}", headers=other, json={"title": "Mine"})
    assert theirs.status_code == 404


async def test_app_routes_answer_the_app_html_and_maintenance_keeps_them_up(app, client):
    from tests.fixtures.admin import set_live

    for path in ("/", "/images/img_123", "/chat/cnv_1", "/admin/users", "/checkout/success"):
        response = await client.get(path)
        assert response.status_code == 200 and "text/html" in response.content_type, path
    assert (await client.get("/assets/js/main.js")).status_code == 200
    await set_live(app, maintenance_mode=True)
    assert (await client.get("/gallery")).status_code == 200
    assert (await client.get("/api/v1/client-config")).status_code == 200
    assert (await client.get("/api/v1/plans")).status_code == 503


MAIN_JS = Path(__file__).resolve().parents[2] / "web" / "assets" / "js" / "main.js"


async def test_every_view_of_the_browser_router_is_served_on_a_direct_load(client):
    """A reload (or a shared link) of any page of the app answers its HTML: each first path segment
    of main.js's ROUTES (/usage and /account were 404 on a reload)."""
    import re

    main_js = MAIN_JS.read_text()  # noqa: ASYNC240 (a small file, read once)
    table = main_js[main_js.index("const ROUTES"):main_js.index("];", main_js.index("const ROUTES"))]
    segments = {name for group in re.findall(r"\[/\^\\/\(?([\w|-]+)", table) for name in group.split("|")}
    assert {"chat", "usage", "account", "admin", "sign-up", "verify-email"} <= segments, segments
    for segment in sorted(segments):
        path = f"/{segment}/x" if segment in ("images", "videos", "checkout") else f"/{segment}"
        response = await client.get(path)
        assert response.status_code == 200 and "text/html" in response.content_type, segment


async def test_web_app_can_be_switched_off(servers, tmp_path):
    application = create_app(make_settings(servers, tmp_path, web_app_enabled=False))
    async with application.test_app():
        response = await application.test_client().get("/images/img_1")
        await application.extensions["container"].platform.database.client.drop_database(
            application.extensions["container"].settings.mongodb_db)
    assert response.status_code == 404


async def test_openapi_documents_the_new_api_and_not_the_app_pages(client):
    paths = (await (await client.get("/openapi.json")).get_json())["paths"]
    assert {"/api/v1/dev/token", "/api/v1/client-config", "/api/v1/images/{image_id}/share"} <= set(paths)
    assert "patch" in paths["/api/v1/conversations/{conversation_id}"]
    assert not [p for p in paths if p == "/" or p.startswith(("/chat", "/assets", "/s/", "/images/{"))]


def test_the_clerk_frontend_api_host_is_read_from_the_publishable_key_and_nothing_else_gets_into_the_csp():
    from app.routes.webapp import clerk_frontend_api

    def key(kind: str, text: str) -> str:
        return f"pk_{kind}_" + base64.b64encode(text.encode()).decode()

    assert clerk_frontend_api(key("test", "clerk.example.com$")) == "clerk.example.com"
    assert clerk_frontend_api(key("live", "clerk.muse.app$").rstrip("=")) == "clerk.muse.app"
    assert clerk_frontend_api(key("live", "127.0.0.1:8443$")) == "127.0.0.1:8443"
    for bad in (None, "", "pk_test_", "sk_test_" + key("test", "a.b$")[8:], key("test", "no-dollar.example"),
                key("test", "evil.example; script-src *$"), key("test", "a.b$ https://x.y$"), "pk_test_%%%"):
        assert clerk_frontend_api(bad) is None, bad
