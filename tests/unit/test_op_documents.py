"""How an op is stored: every field, `_id` for its id, and no aliasing of the op's own dicts."""

from __future__ import annotations

from dataclasses import asdict

from repositories.credits import op_from_doc, op_to_doc
from services.credits.model import new_op


def test_an_op_is_stored_as_asdict_stored_it_and_reads_back_equal():
    op = new_op("usr_1", "gift_code", key="gift_code:C", sources={"gift": 5}, ref="C", request_id="r",
                meta={"previous_gift": {"tier": "t", "remaining": 1}, "gift_set": True})
    expected = asdict(op)
    expected["_id"] = expected.pop("id")
    doc = op_to_doc(op)
    assert doc == expected and list(doc) == list(expected)
    assert op_from_doc(doc) == op


def test_the_stored_document_does_not_share_the_ops_dicts():
    op = new_op("usr_1", "charge", sources={"allowance": -1})
    doc = op_to_doc(op)
    op.sources["balance"] = -7
    op.meta["late"] = True
    assert doc["sources"] == {"allowance": -1, "gift": 0, "balance": 0} and "late" not in doc["meta"]
