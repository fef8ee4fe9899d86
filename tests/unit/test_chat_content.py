"""Message content parts (services/chat/content.py): read the same way for both APIs, every bad
part named by its place in plain words."""

from __future__ import annotations

import pytest

from services.chat.content import ImageSource, parse_content
from services.platform.errors import AppError, BadRequest, ValidationFailed

AT = ("messages", 2, "content")


def refusal(content, *, openai: bool = True, muse_ids: bool = False) -> AppError:
    with pytest.raises(AppError) as refused:
        parse_content(content, AT, openai=openai, muse_ids=muse_ids)
    return refused.value


def test_text_parts_join_and_images_keep_their_place_and_detail():
    parsed = parse_content([{"type": "text", "text": "one"}, {"type": "image_url", "image_url": {
        "url": " data:image/png;base64,AAAA ", "detail": "low"}}, {"type": "text", "text": "two"}],
        AT, openai=True)
    assert parsed.text == "one\ntwo"
    assert parsed.images == (ImageSource(("messages", 2, "content", 1), url="data:image/png;base64,AAAA",
                                         detail="low"),)
    assert parsed.images[0].param == "messages.2.content.1"


def test_the_url_shorthand_and_muse_image_ids_under_api_v1():
    shorthand = parse_content([{"type": "image_url", "image_url": "https://example.com/a.png"}], AT,
                              openai=True)
    assert shorthand.images[0].url == "https://example.com/a.png"
    by_id = parse_content([{"type": "image", "image_id": "img_1"}], AT, openai=False, muse_ids=True)
    assert by_id.images[0].image_id == "img_1"


@pytest.mark.parametrize(("content", "param", "words"), [
    (42, "messages.2.content", "a string or a list"),
    (["hi"], "messages.2.content.0", "object with a `type`"),
    ([{"type": "text"}], "messages.2.content.0", "needs `text`"),
    ([{"type": "image_url"}], "messages.2.content.0", "needs `image_url.url`"),
    ([{"type": "image_url", "image_url": {"url": "x", "detail": "ultra"}}],
     "messages.2.content.0.image_url.detail", "detail must be one of"),
    ([{"type": "image_url", "image_url": {"url": "x", "size": 3}}], "messages.2.content.0.image_url.size",
     "not supported"),
    ([{"type": "text", "text": "a", "cache_control": {}}], "messages.2.content.0.cache_control",
     "not supported"),
    ([{"type": "input_audio", "input_audio": {}}], "messages.2.content.0", "Audio input is not supported"),
    ([{"type": "file", "file": {}}], "messages.2.content.0", "File parts are not supported"),
    ([{"type": "image", "image_id": "img_1"}], "messages.2.content.0", "not supported; use text, image_url."),
])
def test_a_bad_part_is_a_400_under_v1_naming_it(content, param, words):
    error = refusal(content)
    assert isinstance(error, BadRequest) and error.extra["param"] == param
    assert error.detail.startswith(param + ": ") and words in error.detail


def test_under_api_v1_the_same_part_is_a_422_with_its_loc():
    error = refusal([{"type": "text", "text": "ok"}, {"type": "video_url"}], openai=False, muse_ids=True)
    assert isinstance(error, ValidationFailed)
    assert error.extra["errors"] == [{"loc": ["body", "messages", 2, "content", 1],
                                      "msg": "content parts of type 'video_url' are not supported; use text, "
                                             "image_url or image."}]
