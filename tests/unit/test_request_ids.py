"""Request IDs made by Muse (contract §1: a nanoid, 21 characters of `A-Za-z0-9_-`)."""

from __future__ import annotations

import re
import string
from collections import Counter

from middlewares.request_id import new_request_id, resolve_request_id

ALPHABET = string.ascii_letters + string.digits + "_-"


def test_made_ids_are_nanoids_spread_over_the_whole_alphabet_at_every_position():
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{21}", rid) for rid in ids)
    for position in range(21):  # ~312 of each symbol expected: none missing, none crowding
        seen = Counter(rid[position] for rid in ids)
        assert set(seen) == set(ALPHABET)
        assert max(seen.values()) < 3 * min(seen.values())


def test_a_callers_valid_id_is_kept_and_another_replaced():
    assert resolve_request_id("trace-1_A") == "trace-1_A"
    for bad in (None, "", "has space", "x" * 65, "é"):
        assert re.fullmatch(r"[A-Za-z0-9_-]{21}", resolve_request_id(bad))
