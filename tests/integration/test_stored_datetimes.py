"""Every datetime read from the database is timezone-aware, for every document type (issue 19).

nx-27017 hands a datetime written by `$set` back as a naive string and one written by `$push`
as '{"$date": ...}'; MongoDB 7 hands BSON dates back. Each document type is written, updated
(`$set`, also inside untyped sub-documents, and `$push`) and read back through Beanie, raw
PyMongo (find_one, find, find_one_and_update, aggregate) and by collection name.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Union, get_args, get_origin

import pytest

from repositories.documents import AwareDatabase, MuseDocument
from repositories.models import document_models
from tests.fixtures.identity import auth_headers

# in the future: a TTL index must not remove the documents while the test reads them
MOMENT = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=890000)


def _value(tp: Any) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        return _value(next(a for a in args if a is not type(None)))
    if origin is Literal:
        return args[0]
    if tp is datetime:
        return MOMENT
    if tp is bool:
        return False
    if tp is int:
        return 1
    if tp is float:
        return 1.0
    if tp is str:
        return "x"
    if origin is list or tp is list:
        return []
    return {}


def _document(model: type) -> dict[str, Any]:
    doc = {}
    for name, info in model.model_fields.items():
        if name == "revision_id":
            continue
        doc[info.alias or name] = _value(info.annotation)
    doc["_id"] = f"dt_{model.__name__}"
    return doc


def _datetime_fields(model: type) -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        tp = info.annotation
        if tp is datetime or (get_origin(tp) in (Union, types.UnionType) and datetime in get_args(tp)):
            out.append(name)
    return out


def _assert_aware(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _assert_aware(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _assert_aware(v, f"{where}[{i}]")
    elif isinstance(value, datetime):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0), where
    else:
        assert not (isinstance(value, str) and value[:2] == "20"), f"{where} came back as a string: {value!r}"


def test_every_document_derives_from_the_aware_base():
    assert all(issubclass(model, MuseDocument) for model in document_models())


@pytest.mark.parametrize("model", document_models(), ids=lambda m: m.__name__)
async def test_datetimes_written_updated_and_read_back_are_aware(container, model):
    col = model.get_pymongo_collection()
    doc = _document(model)
    await col.insert_one(doc)
    fields = _datetime_fields(model)
    untyped = [info.alias or name for name, info in model.model_fields.items()
               if get_origin(info.annotation) in (dict, Union, types.UnionType)
               and Any in get_args(get_args(info.annotation)[0] if get_origin(info.annotation) is not dict
                                   else info.annotation)]
    # a document without datetime fields (e.g. epoch-ms tokens) is still checked through `extra` below
    later = MOMENT + timedelta(hours=1)
    await col.update_one({"_id": doc["_id"]}, {"$set": {**{f: later for f in fields},
                                                        **{f"{f}.at": later for f in untyped},
                                                        "extra.nested_at": later}})
    await col.update_one({"_id": doc["_id"]}, {"$push": {"extra_list": later}})

    raw = await col.find_one({"_id": doc["_id"]})
    for field in fields:
        assert raw[field] == later, (field, raw[field])
    assert raw["extra"]["nested_at"] == later and raw["extra_list"] == [later]
    for field in untyped:
        assert raw[field]["at"] == later, field
    _assert_aware(raw, "find_one")
    _assert_aware(await col.find({"_id": doc["_id"]}).sort("_id").limit(1).to_list(), "find")
    async for row in col.find({"_id": doc["_id"]}):
        _assert_aware(row, "async for")
    _assert_aware(await col.find_one_and_update({"_id": doc["_id"]}, {"$set": {"touched": 1}},
                                                return_document=True), "find_one_and_update")
    _assert_aware(await (await col.aggregate([{"$match": {"_id": doc["_id"]}}])).to_list(), "aggregate")
    by_name = AwareDatabase(container.platform.database.db)[model.Settings.name]
    _assert_aware(await by_name.find_one({"_id": doc["_id"]}), "by name")

    loaded = await model.get(doc["_id"])
    for field in fields:
        value = getattr(loaded, field)
        assert isinstance(value, datetime) and value.tzinfo is not None and value == later, field


async def test_api_keys_list_after_a_key_was_used(app, client):
    headers = await auth_headers(app, "user_dt")
    created = await (await client.post("/api/v1/api-keys", json={"name": "ci"}, headers=headers)).get_json()
    used = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {created['key']}"})
    assert used.status_code == 200
    listed = await client.get("/api/v1/api-keys", headers=headers)
    assert listed.status_code == 200, await listed.get_json()
    item = (await listed.get_json())["items"][0]
    assert item["last_used_at"] is not None and item["last_used_at"].endswith("Z")


@pytest.mark.parametrize("model", document_models(), ids=lambda m: m.__name__)
async def test_insert_fields_stores_what_beanies_insert_stores(container, model):
    col = model.get_pymongo_collection()
    document = model.model_validate({**_document(model), "_id": f"ins_{model.__name__}"})
    await document.insert()
    by_beanie = await col.find_one({"_id": document.id})
    await col.delete_one({"_id": document.id})
    await document.insert_fields()
    by_fields = await col.find_one({"_id": document.id})
    assert by_fields == by_beanie and list(by_fields) == list(by_beanie)
    assert (await model.get(document.id)).model_dump() == document.model_dump()
