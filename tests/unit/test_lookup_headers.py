"""`LookupHeaders` answers `get` and `in` exactly as werkzeug's `Headers` does, without raising."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from middlewares.body import LookupHeaders

PAIRS = [("Content-Type", "application/json"), ("X-Count", "42"), ("X-Count", "7"), ("X-Bad", "x"),
         ("Authorization", "Bearer t")]


@pytest.mark.parametrize("key", ["content-type", "CONTENT-TYPE", "X-Count", "x-count", "X-Bad", "Origin",
                                 "X-Request-ID", "authorization", ""])
@pytest.mark.parametrize("kwargs", [{}, {"default": "d"}, {"type": int}, {"default": -1, "type": int}])
def test_get_and_contains_agree_with_werkzeug(key, kwargs):
    plain, fast = Headers(PAIRS), LookupHeaders(PAIRS)
    assert fast.get(key, **kwargs) == plain.get(key, **kwargs)
    assert (key in fast) == (key in plain)


def test_a_missing_name_is_answered_without_an_exception(monkeypatch):
    fast = LookupHeaders(PAIRS)

    def boom(self, key):  # werkzeug's raising look-up must not be on the path of get/in
        raise AssertionError("raising look-up used")

    monkeypatch.setattr(Headers, "_get_key", boom)
    assert fast.get("Origin") is None and "Origin" not in fast
    assert fast.get("X-Count", type=int) == 42


def test_quart_requests_carry_lookup_headers():
    from middlewares.body import MuseRequest

    request = MuseRequest("GET", "http", "/", b"", Headers(PAIRS), "", "1.1", send_push_promise=None,
                          scope={})
    assert type(request.headers) is LookupHeaders and request.headers.get("x-count") == "42"
