"""Session JWTs through Clerk's JWKS (CLERK_SECRET_KEY, no CLERK_JWT_KEY) against a wire fake."""

from __future__ import annotations

from app import create_app
from providers.dev_keys import DEV_KID, generate_key_pair
from tests.conftest import make_settings
from tests.fakes.clerk import FakeClerkApi, clerk_user
from tests.fixtures.identity import TEST_JWT_PUBLIC_PEM, make_token


async def test_tokens_verify_through_the_jwks_route_which_is_fetched_once(servers, tmp_path):
    with FakeClerkApi({DEV_KID: TEST_JWT_PUBLIC_PEM}, secret="sk_test_jwks") as fake:
        settings = make_settings(servers, tmp_path, clerk_jwt_key=None, clerk_secret_key="sk_test_jwks",
                                 clerk_api_url=fake.url)
        app = create_app(settings)
        async with app.test_app():
            client = app.test_client()
            ok = [await client.get("/api/v1/me", headers={"Authorization": f"Bearer {make_token('user_j')}"})
                  for _ in range(3)]
            forged = make_token("user_j", private_pem=generate_key_pair()[0])
            bad = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
            await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    assert [r.status_code for r in ok] == [200, 200, 200]
    assert bad.status_code == 401 and (await bad.get_json())["code"] == "unauthorized"
    # One JWKS fetch for the valid tokens (cached); the forged one forces one key-rotation refetch.
    assert fake.paths.count("/v1/jwks") == 2


def _bearer(clerk_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(clerk_id)}"}


async def test_just_in_time_users_get_their_clerk_profile(servers, tmp_path):
    ada = clerk_user("user_ada", email="ada@example.com", first_name="Ada", last_name="Lovelace",
                     image_url="https://img.clerk.test/ada.png")
    with FakeClerkApi({DEV_KID: TEST_JWT_PUBLIC_PEM}, secret="sk_test_jit", users=[ada]) as fake:
        settings = make_settings(servers, tmp_path, clerk_secret_key="sk_test_jit", clerk_api_url=fake.url)
        app = create_app(settings)
        async with app.test_app():
            client = app.test_client()
            known = await client.get("/api/v1/me", headers=_bearer("user_ada"))
            again = await client.get("/api/v1/me", headers=_bearer("user_ada"))
            unknown = await client.get("/api/v1/me", headers=_bearer("user_x"))
            stored = await app.extensions["container"].identity.users.get_by_clerk_id("user_ada")
            await app.extensions["container"].platform.database.client.drop_database(settings.mongodb_db)
    body = await known.get_json()
    assert known.status_code == again.status_code == unknown.status_code == 200
    assert body["email"] == "ada@example.com" and body["name"] == "Ada Lovelace"
    assert stored.image_url == "https://img.clerk.test/ada.png"
    assert (await unknown.get_json())["email"] is None  # Clerk had no such user: created without a profile
    assert fake.paths.count("/v1/users/user_ada") == 1  # fetched once, at creation
