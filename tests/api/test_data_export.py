"""Data export (contract §20, issue 27): `GET /api/v1/me/export` → 202 with a job that a real arq
worker runs; its progress pushed as server-sent events; the zip archive (read back with `zipfile`)
holds every file of the contract with the user's data and no secret; the owner only downloads it;
one running export per user; deleted 24 h later by the sweep, and by account deletion."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile

from services.platform.clock import clock
from tests.conftest import app_instances, make_settings
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import run_jobs

LOCAL = {"chat_providers": ["local"], "image_providers": ["local"], "video_providers": ["local"]}


def _zips(directory) -> list[str]:
    return [n for n in os.listdir(directory) if n.endswith(".zip")] if os.path.isdir(directory) else []


FILES = ["profile.json", "conversations.json", "images.json", "ledger.json", "payments.json", "api_keys.json"]


async def _use(app, headers) -> dict:
    client = app.test_client()
    chat = await client.post("/api/v1/chat", headers=headers,
                             json={"messages": [{"role": "user", "content": "hi"}]})
    assert chat.status_code == 200
    conversation_id = (await chat.get_json())["conversation_id"]
    branch = await client.post("/api/v1/chat", headers=headers, json={
        "conversation_id": conversation_id, "messages": [{"role": "user", "content": "another branch"}]})
    assert branch.status_code == 200
    image = await client.post("/api/v1/images", headers=headers, json={"prompt": "a red fox"})
    assert image.status_code == 202
    key = await client.post("/api/v1/api-keys", headers=headers, json={"name": "laptop"})
    assert key.status_code == 201
    await run_jobs(app.extensions["container"])
    return {"conversation": conversation_id, "image": (await image.get_json())["id"],
            "secret": (await key.get_json())["key"]}


async def _events(client, headers, location: str) -> list[dict]:
    answer = await client.get(f"{location}/events", headers=headers)
    assert answer.status_code == 200 and answer.content_type.startswith("text/event-stream")
    text = (await answer.get_data()).decode()
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


async def test_the_export_is_a_job_whose_zip_holds_the_users_data_without_secrets(servers, tmp_path):
    settings = make_settings(servers, tmp_path, export_dir=tmp_path / "exports", **LOCAL)
    async with app_instances(settings, 2) as (one, two):
        client = one.test_client()
        headers = await auth_headers(one, "user_export", email="ex@example.com")
        made = await _use(one, headers)

        started = await client.get("/api/v1/me/export", headers=headers)
        assert started.status_code == 202, await started.get_data()
        job = await started.get_json()
        location = started.headers["Location"]
        assert location == f"/api/v1/me/exports/{job['id']}" and job["status"] == "queued"
        again = await asyncio.gather(*(app.test_client().get("/api/v1/me/export", headers=headers)
                                       for app in (one, two) * 5))  # one running export, whoever asks
        assert {a.status_code for a in again} == {202}
        assert {(await a.get_json())["id"] for a in again} == {job["id"]}
        other = await auth_headers(one, "user_other")
        assert (await client.get(location, headers=other)).status_code == 404

        follower = asyncio.create_task(_events(two.test_client(), headers, location))  # another process
        await asyncio.sleep(1.0)  # the follower listens before the worker starts
        await run_jobs(one.extensions["container"])
        pushed = await asyncio.wait_for(follower, 20)
        assert pushed[-1]["status"] == "completed"
        progress = [e["progress"]["sections_done"] for e in pushed if e["status"] == "in_progress"]
        assert progress and progress == sorted(progress) and progress[-1] == 6  # pushed after each file
        assert len(progress) >= 2 and pushed[0]["status"] in ("queued", "in_progress")

        done = await (await client.get(location, headers=headers)).get_json()
        assert done["status"] == "completed" and done["progress"]["items"] > 0 and done["expires_at"]
        assert (await client.get(done["download_url"], headers=other)).status_code == 404  # owner only
        answer = await two.test_client().get(done["download_url"], headers=headers)
        assert answer.status_code == 200 and answer.content_type == "application/zip"
        raw = await answer.get_data()
        assert len(raw) == done["size_bytes"]
        archive = zipfile.ZipFile(io.BytesIO(raw))
        assert archive.namelist() == FILES
        data = {name: json.loads(archive.read(name)) for name in FILES}
        assert data["profile.json"]["email"] == "ex@example.com"
        conversation = next(c for c in data["conversations.json"] if c["id"] == made["conversation"])
        assert {m["content"] for m in conversation["messages"]} >= {"hi", "another branch"}
        assert len(conversation["messages"]) >= 4  # both questions and both answers
        image = next(i for i in data["images.json"] if i["id"] == made["image"])
        assert image["outputs"][0]["url"] and "key" not in image["outputs"][0]
        assert [k["name"] for k in data["api_keys.json"]] == ["laptop"]
        assert "charge" in {e["kind"] for e in data["ledger.json"]}
        assert data["payments.json"] == []
        everything = b"".join(archive.read(name) for name in FILES)
        assert made["secret"].encode() not in everything and b"key_hash" not in everything

        # a new export may start once that one finished
        fresh = await (await client.get("/api/v1/me/export", headers=headers)).get_json()
        assert fresh["id"] != job["id"]


async def test_the_sweep_deletes_an_export_after_24_hours_and_account_deletion_deletes_them(
        servers, tmp_path):
    exports = tmp_path / "exports"
    settings = make_settings(servers, tmp_path, export_dir=exports, **LOCAL)
    async with app_instances(settings, 1) as (app,):
        client, container = app.test_client(), app.extensions["container"]
        headers = await auth_headers(app, "user_sweep")
        job = await (await client.get("/api/v1/me/export", headers=headers)).get_json()
        await run_jobs(container)
        done = await (await client.get(f"/api/v1/me/exports/{job['id']}", headers=headers)).get_json()
        assert done["status"] == "completed" and _zips(exports)

        assert await container.admin.export.sweep() == 0  # not yet
        clock.offset = clock.offset.__class__(hours=24, minutes=1)
        assert await container.admin.export.sweep() == 1
        assert _zips(exports) == []
        gone = await client.get(done["download_url"], headers=headers)
        assert gone.status_code == 410
        assert (await (await client.get(f"/api/v1/me/exports/{job['id']}", headers=headers)).get_json()
                )["status"] == "expired"
        clock.offset = clock.offset.__class__(0)

        second = await (await client.get("/api/v1/me/export", headers=headers)).get_json()
        await run_jobs(container)
        assert _zips(exports)
        user = await container.identity.users.get_by_clerk_id("user_sweep")
        assert (await client.delete("/api/v1/me", headers=headers)).status_code == 202
        assert _zips(exports) == []
        db = container.platform.database.db
        assert await db["exports"].count_documents({"user_id": user.id}) == 0, second["id"]
