"""A documented "says something" pattern means what the API checks (issue 27, schemathesis ST202):
JSON Schema patterns are ECMA-262, whose `\\S` takes U+001C-U+001F and U+0085 as text while Python's
str.strip() removes them, so a schema-valid embeddings input of "\\x1c" was refused."""

from __future__ import annotations

import re

from controllers.schemas.base import NONBLANK
from controllers.schemas.embeddings import EmbeddingsIn


def test_nonblank_is_exactly_what_python_does_not_strip():
    assert all((not chr(c).isspace()) == bool(re.search(NONBLANK, chr(c))) for c in range(0x110000))
    assert "\\S" not in NONBLANK and "\\s" not in NONBLANK  # no class whose meaning differs in ECMA-262


def _patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [v for k, v in node.items() if k == "pattern"]
        return own + [p for v in node.values() for p in _patterns(v)]
    return [p for v in node for p in _patterns(v)] if isinstance(node, list) else []


def test_embeddings_input_documents_that_pattern():
    assert set(_patterns(EmbeddingsIn.model_json_schema())) == {NONBLANK}


def test_no_request_body_documents_an_ecma_space_class():
    from controllers.schemas.chat import ChatIn, RenameIn
    from controllers.schemas.openai import ChatCompletionIn
    from controllers.schemas.responses import ResponseCreateIn

    for model in (ChatIn, RenameIn, ChatCompletionIn, ResponseCreateIn):
        assert not [p for p in _patterns(model.model_json_schema()) if "\\S" in p or "\\s" in p], model
