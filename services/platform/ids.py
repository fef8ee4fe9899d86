"""Opaque, type-prefixed, time-ordered identifiers (`usr_…`, `img_…`).

The first 9 characters after the prefix encode the creation time in
milliseconds (Crockford base32), so ids sort by creation time and can serve
as pagination cursors; 12 random characters follow.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return a new id such as `img_01jd3k7c2x8f4n0q9r6t5v3w`."""
    stamp = _encode(int(time.time() * 1000), 9)
    rand = "".join(_ALPHABET[b & 31] for b in os.urandom(12))
    return f"{prefix}_{stamp}{rand}"
