"""Privacy of uploads (issue 19): edit sources and masks are never publicly fetchable."""

from __future__ import annotations

import io

from quart.datastructures import FileStorage

from repositories.images import ImageDocument
from tests.fixtures.identity import auth_headers
from tests.fixtures.images import media_files, picture, run_jobs


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="image/png")


async def test_edit_sources_and_masks_are_not_under_public_media_paths(images_app, fake_openai_images):
    client, container = images_app.test_client(), images_app.extensions["container"]
    headers = await auth_headers(images_app, "private_user")
    response = await client.post("/api/v1/images/edits", headers=headers, form={"prompt": "add a hat"},
                                 files={"image": _file(picture("PNG", (200, 100)), "me.png"),
                                        "mask": _file(picture("PNG", (200, 100), "black"), "mask.png")})
    body = await response.get_json()
    assert response.status_code == 202, body
    doc = await ImageDocument.get(body["id"])
    user_id = doc.user_id
    for stored in (doc.source, doc.mask):
        assert "/media/" not in stored["url"]
        assert (await client.get("/media/" + stored["key"])).status_code == 404
    # the names an attacker would guess from the image id are not served either
    for role in ("source", "mask"):
        for guess in (f"{user_id}/{body['id']}_{role}.png", f"_private/{user_id}/{body['id']}_{role}.png",
                      f"x/../_private/{user_id}/{body['id']}_{role}.png"):
            assert (await client.get("/media/" + guess)).status_code == 404, guess
    # the job still reads them, and the outputs are served (unguessable names under /media/)
    await run_jobs(container)
    done = await (await client.get(f"/api/v1/images/{body['id']}", headers=headers)).get_json()
    assert done["status"] == "completed" and fake_openai_images.edits == 1
    output = done["outputs"][0]["url"].split("/media/", 1)[1]
    assert (await client.get("/media/" + output)).status_code == 200
    assert await client.delete(f"/api/v1/images/{body['id']}", headers=headers)
    assert media_files(container) == []
