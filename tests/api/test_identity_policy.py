"""Access policy: every route declared, RBAC, development tokens, marketplace mode."""

from __future__ import annotations

from app import create_app
from app.__main__ import main
from middlewares.access import PUBLIC_ENDPOINTS, policy_of
from middlewares.policy import policy_declared
from tests.conftest import make_settings
from tests.fixtures.identity import auth_headers


async def test_every_route_is_public_or_requires_a_role(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        is_public, role = policy_of(app.view_functions[rule.endpoint])
        if not is_public and role is None:
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert undeclared == [], "routes neither @public nor @require_role: " + ", ".join(undeclared)


async def test_every_route_declares_its_live_settings_and_rate_limit_policy(app):
    undeclared = [f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                  if rule.endpoint not in PUBLIC_ENDPOINTS
                  and policy_declared(app.view_functions[rule.endpoint]) is None]
    assert undeclared == [], "routes without @policy(...): " + ", ".join(undeclared)


async def test_user_on_an_admin_route_is_403(app, client):
    response = await client.get("/api/v1/admin/whoami", headers=await auth_headers(app, "user_plain"))
    assert response.status_code == 403
    assert (await response.get_json())["code"] == "forbidden"


async def test_admin_on_an_admin_route_is_200(app, client):
    headers = await auth_headers(app, "user_boss", role="ADMIN")
    response = await client.get("/api/v1/admin/whoami", headers=headers)
    assert response.status_code == 200
    assert (await response.get_json())["role"] == "ADMIN"


async def test_anonymous_on_an_admin_route_is_401(client):
    response = await client.get("/api/v1/admin/whoami")
    assert response.status_code == 401


async def test_admin_user_ids_bootstrap_admins(servers, tmp_path):
    settings = make_settings(servers, tmp_path, admin_user_ids="user_root, user_other")
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        root = await client.get("/api/v1/admin/whoami", headers=await auth_headers(app, "user_root"))
        me = await client.get("/api/v1/me", headers=await auth_headers(app, "user_root"))
        plain = await client.get("/api/v1/admin/whoami", headers=await auth_headers(app, "user_plain"))
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert root.status_code == 200
    assert (await me.get_json())["role"] == "ADMIN"
    assert plain.status_code == 403


async def test_subscription_changes_never_demote_an_admin(app):
    users = app.extensions["container"].identity.users
    await auth_headers(app, "user_adm", role="ADMIN")
    admin = await users.get_by_clerk_id("user_adm")
    from services.platform.principal import Role

    after = await users.set_plan(admin.id, "free", role=Role.USER)
    assert after.role == Role.ADMIN and after.plan == "free"


async def test_dev_token_command_signs_tokens_the_development_app_accepts(
    servers, tmp_path, monkeypatch, capsys
):
    var = tmp_path / "var"
    for name in ("CLERK_JWT_KEY", "CLERK_SECRET_KEY", "CLERK_AUTHORIZED_PARTIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("VAR_DIR", str(var))
    assert main(["token", "--user", "user_dev", "--role", "admin", "--email", "dev@muse.test"]) == 0
    token = capsys.readouterr().out.strip()
    assert (var / "dev-jwt" / "private.pem").exists()

    settings = make_settings(servers, tmp_path, app_env="development", clerk_jwt_key=None)
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        response = await client.get("/api/v1/admin/whoami", headers={"Authorization": f"Bearer {token}"})
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert response.status_code == 200
    body = await me.get_json()
    assert body["clerk_id"] == "user_dev" and body["email"] == "dev@muse.test" and body["role"] == "ADMIN"


async def test_dev_token_command_is_refused_outside_development(monkeypatch, capsys):
    monkeypatch.setenv("APP_ENV", "test")
    assert main(["token", "--user", "user_dev"]) == 2
    assert "development only" in capsys.readouterr().err


async def test_role_claims_are_ignored_outside_development(app, client):
    from tests.fixtures.identity import make_token

    token = make_token("user_sneaky", muse_role="ADMIN")
    response = await client.get("/api/v1/admin/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


async def test_rapidapi_marketplace_requests_map_user_and_plan(servers, tmp_path):
    settings = make_settings(servers, tmp_path, rapidapi_proxy_secret="rapid-secret")
    app = create_app(settings)
    headers = {"X-RapidAPI-Proxy-Secret": "rapid-secret", "X-RapidAPI-User": "acme",
               "X-RapidAPI-Subscription": "PRO"}
    async with app.test_app():
        client = app.test_client()
        pro = await client.get("/api/v1/me", headers=headers)
        ultra = await client.get("/api/v1/me", headers={**headers, "X-RapidAPI-Subscription": "ULTRA"})
        basic = await client.get("/api/v1/me", headers={**headers, "X-RapidAPI-Subscription": "BASIC"})
        wrong = await client.get("/api/v1/me", headers={**headers, "X-RapidAPI-Proxy-Secret": "nope"})
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    body = await pro.get_json()
    assert pro.status_code == 200
    assert body["clerk_id"] == "rapidapi:acme" and body["plan"] == "starter" and body["role"] == "SUBSCRIBER"
    assert (await ultra.get_json())["plan"] == "enterprise"
    assert (await basic.get_json())["plan"] == "free" and (await basic.get_json())["role"] == "USER"
    assert wrong.status_code == 401


async def test_an_undeclared_view_is_refused_even_to_admins(servers, tmp_path):
    from quart import Blueprint

    bp = Blueprint("undeclared", __name__)

    @bp.get("/api/v1/undeclared")
    async def undeclared():
        return {"leak": True}

    settings = make_settings(servers, tmp_path)
    app = create_app(settings)
    app.register_blueprint(bp)
    async with app.test_app():
        headers = await auth_headers(app, "user_root", role="ADMIN")
        response = await app.test_client().get("/api/v1/undeclared", headers=headers)
        anonymous = await app.test_client().get("/api/v1/undeclared")
        await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert response.status_code == 403 and anonymous.status_code == 401
