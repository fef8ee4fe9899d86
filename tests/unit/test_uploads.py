"""Upload checks: size (413) and real PNG/JPEG/WebP bytes (415)."""

from __future__ import annotations

import pytest

from services.platform.errors import PayloadTooLarge, UnsupportedMediaType
from services.platform.uploads import check_image
from tests.fixtures.images import picture


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_pass_with_their_size(fmt):
    checked = check_image(picture(fmt, (40, 30)), max_mb=1)
    assert (checked.format, checked.width, checked.height) == (fmt.lower(), 40, 30)
    assert checked.content_type == f"image/{fmt.lower()}"


def test_too_large_is_413_before_decoding():
    with pytest.raises(PayloadTooLarge):
        check_image(b"x" * (1024 * 1024 + 1), max_mb=1)


@pytest.mark.parametrize(
    "data", [b"", b"hello, I am text", picture("PNG")[:40], picture("GIF"), picture("BMP")]
)
def test_text_truncated_and_other_formats_are_415(data):
    with pytest.raises(UnsupportedMediaType):
        check_image(data, max_mb=1)
