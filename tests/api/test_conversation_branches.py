"""Conversations as trees (contract §21): edit and re-send, regenerate, branch switching, and
conversations stored before branches; over HTTP against the Gemini wire fake, real Mongo/Redis."""

from __future__ import annotations

from tests.api.test_chat_api import events, ledger_kinds, user_of
from tests.fixtures.identity import auth_headers


def ask(text: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


async def call(app, method: str, path: str, *, who: str = "alice", **kwargs):
    auth = await auth_headers(app, who)
    response = await app.test_client().open(path, method=method, headers=auth, **kwargs)
    return response.status_code, await response.get_json()


async def thread(app, conversation_id: str, who: str = "alice") -> dict:
    status, data = await call(app, "GET", f"/api/v1/conversations/{conversation_id}", who=who)
    assert status == 200, data
    return data


def sent_texts(fake) -> list[str]:
    """What the provider was last sent, turn by turn."""
    return [part["text"] for turn in fake.calls[-1].body["contents"] for part in turn["parts"]]


async def two_turns(app, fake) -> tuple[str, dict]:
    fake.reply = "First answer."
    _, first = await call(app, "POST", "/api/v1/chat", json=ask("First question"))
    fake.reply = "Second answer."
    _, second = await call(app, "POST", "/api/v1/chat", json=ask("Second question",
                                                                    conversation_id=first["conversation_id"]))
    return first["conversation_id"], await thread(app, first["conversation_id"])


async def test_a_linear_conversation_has_parents_and_single_siblings(chat_app, fake_gemini):
    conversation_id, convo = await two_turns(chat_app, fake_gemini)
    messages = convo["messages"]
    assert [m["content"] for m in messages] == ["First question", "First answer.", "Second question",
                                                "Second answer."]
    assert messages[0]["parent_id"] is None
    assert [m["parent_id"] for m in messages[1:]] == [m["id"] for m in messages[:-1]]
    assert all(m["siblings"] == [m["id"]] for m in messages)
    assert convo["active_leaf_id"] == messages[-1]["id"]


async def test_edit_and_resend_branches_and_the_new_branch_is_remembered(chat_app, fake_gemini):
    conversation_id, before = await two_turns(chat_app, fake_gemini)
    q1, a1, q2, a2 = (m["id"] for m in before["messages"])
    fake_gemini.reply = "Edited answer."
    status, data = await call(chat_app, "POST", "/api/v1/chat", json=ask(
        "Second question, edited", conversation_id=conversation_id, parent_id=a1))
    assert status == 200, data
    assert sent_texts(fake_gemini) == ["First question", "First answer.", "Second question, edited"]
    after = await thread(chat_app, conversation_id)
    assert [m["content"] for m in after["messages"]] == ["First question", "First answer.",
                                                         "Second question, edited", "Edited answer."]
    edited = after["messages"][2]
    assert edited["parent_id"] == a1 and edited["siblings"] == [q2, edited["id"]]
    assert after["active_leaf_id"] == data["id"] and after["message_count"] == 6
    # Switching back to the old question shows its answer (the newest leaf below it), and stays.
    status, switched = await call(chat_app, "PUT", f"/api/v1/conversations/{conversation_id}/active",
                                  json={"leaf_id": q2})
    assert status == 200, switched
    assert [m["id"] for m in switched["messages"]] == [q1, a1, q2, a2]
    assert (await thread(chat_app, conversation_id))["active_leaf_id"] == a2
    # A plain follow-up continues the branch shown.
    fake_gemini.reply = "Third answer."
    await call(chat_app, "POST", "/api/v1/chat", json=ask("Third question", conversation_id=conversation_id))
    assert sent_texts(fake_gemini) == ["First question", "First answer.", "Second question", "Second answer.",
                                       "Third question"]


async def test_regenerate_charges_again_bypasses_the_cache_and_keeps_the_old_answer(chat_app, fake_gemini):
    conversation_id, before = await two_turns(chat_app, fake_gemini)
    a2 = before["messages"][-1]["id"]
    calls = fake_gemini.count()
    fake_gemini.reply = "Another take."
    path = f"/api/v1/conversations/{conversation_id}/messages/{a2}/regenerate"
    status, data = await call(chat_app, "POST", path, json={})
    assert status == 200, data
    assert data["cached"] is False and data["credits_charged"] == 1
    assert data["message"]["content"] == "Another take."
    assert fake_gemini.count() == calls + 1  # the same history is cached, and was not read
    assert sent_texts(fake_gemini) == ["First question", "First answer.", "Second question"]
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "chat", "chat"]
    after = await thread(chat_app, conversation_id)
    last = after["messages"][-1]
    assert last["id"] == data["id"] and last["siblings"] == [a2, data["id"]]
    assert [m["content"] for m in after["messages"][:3]] == ["First question", "First answer.",
                                                             "Second question"]
    # Streamed, the same: a third sibling, active.
    fake_gemini.reply = "Streamed take."
    auth = await auth_headers(chat_app, "alice")
    response = await chat_app.test_client().post(path, json={"stream": True}, headers=auth)
    streamed = events((await response.get_data()).decode())
    assert [name for name, _ in streamed][0] == "meta" and streamed[-1][0] == "done"
    assert streamed[0][1]["cached"] is False and streamed[-1][1]["credits_charged"] == 1
    final = await thread(chat_app, conversation_id)
    assert final["messages"][-1]["content"] == "Streamed take."
    assert len(final["messages"][-1]["siblings"]) == 3


async def test_a_conversation_stored_before_branches_reads_as_one_line(chat_app, fake_gemini):
    conversation_id, convo = await two_turns(chat_app, fake_gemini)
    container = chat_app.extensions["container"]
    db = container.platform.database.client[container.settings.mongodb_db]
    # As stored before: no parent ids, no active leaf.
    await db.messages.update_many({"conversation_id": conversation_id}, {"$unset": {"parent_id": ""}})
    await db.conversations.update_one({"_id": conversation_id}, {"$unset": {"active_leaf_id": ""}})
    old = await thread(chat_app, conversation_id)
    assert [m["id"] for m in old["messages"]] == [m["id"] for m in convo["messages"]]
    assert [m["parent_id"] for m in old["messages"]] == [None] + [m["id"] for m in convo["messages"][:-1]]
    fake_gemini.reply = "Continued."
    await call(chat_app, "POST", "/api/v1/chat", json=ask("Go on", conversation_id=conversation_id))
    assert sent_texts(fake_gemini)[-2:] == ["Second answer.", "Go on"]
    assert len((await thread(chat_app, conversation_id))["messages"]) == 6


async def test_bad_branch_requests_are_refused_by_name_and_change_nothing(chat_app, fake_gemini):
    """A well-formed id that names no message of the conversation is a 404 (a state, like an unknown
    conversation: the OpenAPI document cannot say which ids exist), regenerating a question a 409;
    the problem names the field either way. Only a malformed request is a 422."""
    conversation_id, convo = await two_turns(chat_app, fake_gemini)
    q1 = convo["messages"][0]["id"]
    status, problem = await call(chat_app, "POST", "/api/v1/chat", json=ask(
        "x", conversation_id=conversation_id, parent_id="msg_nope"))
    assert status == 404 and problem["errors"][0]["loc"] == ["body", "parent_id"]
    status, problem = await call(chat_app, "POST", "/api/v1/chat", json=ask("x", parent_id=q1))
    assert status == 422 and problem["errors"][0]["loc"] == ["body", "parent_id"]
    base = f"/api/v1/conversations/{conversation_id}"
    status, problem = await call(chat_app, "POST", f"{base}/messages/{q1}/regenerate", json={})
    assert status == 409 and problem["code"] == "conflict"
    assert problem["errors"][0]["loc"] == ["path", "message_id"]
    status, _ = await call(chat_app, "POST", f"{base}/messages/msg_nope/regenerate", json={})
    assert status == 404
    status, problem = await call(chat_app, "PUT", f"{base}/active", json={"leaf_id": "msg_nope"})
    assert status == 404 and problem["errors"][0]["loc"] == ["body", "leaf_id"]
    a2 = convo["messages"][-1]["id"]
    status, _ = await call(chat_app, "POST", f"{base}/messages/{a2}/regenerate", json={}, who="mallory")
    assert status == 404
    status, _ = await call(chat_app, "PUT", f"{base}/active", json={"leaf_id": q1}, who="mallory")
    assert status == 404
    after = await thread(chat_app, conversation_id)
    assert after["messages"] == convo["messages"] and after["message_count"] == 4
    user = await user_of(chat_app, "alice")
    assert await ledger_kinds(chat_app, user.id) == ["chat", "chat"]


async def test_editing_the_first_question_starts_a_new_first_message(chat_app, fake_gemini):
    conversation_id, before = await two_turns(chat_app, fake_gemini)
    q1 = before["messages"][0]["id"]
    fake_gemini.reply = "Fresh start."
    status, data = await call(chat_app, "POST", "/api/v1/chat", json=ask(
        "A different first question", conversation_id=conversation_id, parent_id=""))
    assert status == 200, data
    assert sent_texts(fake_gemini) == ["A different first question"]
    after = await thread(chat_app, conversation_id)
    assert [m["content"] for m in after["messages"]] == ["A different first question", "Fresh start."]
    first = after["messages"][0]
    assert first["parent_id"] is None and first["siblings"] == [q1, first["id"]]
