"""Conversations as a library (contract §21): search through the text indexes with snippets, pin
(pinned first), export as Markdown or JSON, delete all; over HTTP, real Mongo (nx-27017) and Redis."""

from __future__ import annotations

import json

from tests.api.test_conversation_branches import ask, call, thread


async def chat(app, fake, question: str, answer: str, who: str = "alice", **extra) -> dict:
    fake.reply = answer
    status, data = await call(app, "POST", "/api/v1/chat", json=ask(question, **extra), who=who)
    assert status == 200, data
    return data


async def test_search_finds_titles_and_message_text_of_the_callers_conversations_only(chat_app, fake_gemini):
    lisbon = await chat(chat_app, fake_gemini, "Plan a trip to Lisbon",
                        "Start at Alfama, then Belém for pastries.")
    python = await chat(chat_app, fake_gemini, "Sorting in Python", "Use sorted() with a key function.")
    await chat(chat_app, fake_gemini, "Plan a trip to Lisbon", "Someone else's Belém trip.", who="mallory")
    status, page = await call(chat_app, "GET", "/api/v1/conversations?q=bel%C3%A9m")
    assert status == 200, page
    assert [i["id"] for i in page["items"]] == [lisbon["conversation_id"]]
    assert "Belém for pastries" in page["items"][0]["snippet"] and page["next_cursor"] is None
    _, page = await call(chat_app, "GET", "/api/v1/conversations?q=PYTHON")  # a title, any case
    assert [i["id"] for i in page["items"]] == [python["conversation_id"]]
    _, page = await call(chat_app, "GET", "/api/v1/conversations?q=nothing-like-this")
    assert page["items"] == []
    status, problem = await call(chat_app, "GET", "/api/v1/conversations?q=" + "x" * 201)
    assert status == 422


async def test_search_is_served_by_the_text_index(chat_app, fake_gemini):
    await chat(chat_app, fake_gemini, "Indexed question", "An answer about zebras.")
    container = chat_app.extensions["container"]
    db = container.platform.database.client[container.settings.mongodb_db]
    plan = await db.messages.find({"$text": {"$search": "zebras"}}).explain()
    assert "fts" in json.dumps(plan, default=str).lower()  # nx-27017: SQLite FTS5 tables, not a scan


async def test_pinned_conversations_list_first_and_patch_refuses_unknown_fields(chat_app, fake_gemini):
    first = await chat(chat_app, fake_gemini, "Oldest", "a")
    second = await chat(chat_app, fake_gemini, "Middle", "b")
    third = await chat(chat_app, fake_gemini, "Newest", "c")
    status, data = await call(chat_app, "PATCH", f"/api/v1/conversations/{first['conversation_id']}",
                              json={"pinned": True})
    assert status == 200 and data["pinned"] is True and data["title"] == "Oldest"
    _, page = await call(chat_app, "GET", "/api/v1/conversations?limit=2")
    assert [i["title"] for i in page["items"]] == ["Oldest", "Newest", "Middle"]
    _, rest = await call(chat_app, "GET", f"/api/v1/conversations?limit=2&cursor={page['next_cursor']}")
    assert rest["items"] == [] and rest["next_cursor"] is None
    status, data = await call(chat_app, "PATCH", f"/api/v1/conversations/{second['conversation_id']}",
                              json={"title": "Renamed", "pinned": False})
    assert status == 200 and data["title"] == "Renamed" and data["pinned"] is False
    status, problem = await call(chat_app, "PATCH", f"/api/v1/conversations/{third['conversation_id']}",
                                 json={"pinned": "yes please"})
    assert status == 422
    status, _ = await call(chat_app, "PATCH", f"/api/v1/conversations/{third['conversation_id']}",
                           json={"pinned": True}, who="mallory")
    assert status == 404


async def test_export_the_active_path_as_markdown_and_json(chat_app, fake_gemini):
    data = await chat(chat_app, fake_gemini, "Export me", "# Heading\n\nSome **bold** text.")
    cid = data["conversation_id"]
    auth_call = chat_app.test_client()
    from tests.fixtures.identity import auth_headers
    auth = await auth_headers(chat_app, "alice")
    md = await auth_call.get(f"/api/v1/conversations/{cid}/export?format=md", headers=auth)
    assert md.status_code == 200 and md.content_type.startswith("text/markdown")
    assert md.headers["Content-Disposition"] == 'attachment; filename="export-me.md"'
    text = (await md.get_data()).decode()
    assert text.startswith("# Export me\n") and "Export me" in text and "Some **bold** text." in text
    js = await auth_call.get(f"/api/v1/conversations/{cid}/export?format=json", headers=auth)
    body = json.loads(await js.get_data())
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["parent_id"] == body["messages"][0]["id"] and body["title"] == "Export me"
    pdf = await auth_call.get(f"/api/v1/conversations/{cid}/export?format=pdf", headers=auth)
    assert pdf.status_code == 422
    other = await auth_headers(chat_app, "mallory")
    assert (await auth_call.get(f"/api/v1/conversations/{cid}/export", headers=other)).status_code == 404


async def test_delete_all_deletes_only_the_callers_conversations(chat_app, fake_gemini):
    mine = [await chat(chat_app, fake_gemini, f"Mine {i}", "ok") for i in range(3)]
    theirs = await chat(chat_app, fake_gemini, "Theirs", "ok", who="mallory")
    status, _ = await call(chat_app, "DELETE", "/api/v1/conversations")
    assert status == 204
    _, page = await call(chat_app, "GET", "/api/v1/conversations")
    assert page["items"] == []
    status, _ = await call(chat_app, "GET", f"/api/v1/conversations/{mine[0]['conversation_id']}")
    assert status == 404
    container = chat_app.extensions["container"]
    db = container.platform.database.client[container.settings.mongodb_db]
    ids = [m["conversation_id"] for m in mine]
    assert await db.messages.count_documents({"conversation_id": {"$in": ids}}) == 0
    assert (await thread(chat_app, theirs["conversation_id"], who="mallory"))["title"] == "Theirs"
