"""Videos and live job status in a real browser: status pushed by the server (no polling), the
player plays the MP4 and seeks through byte ranges."""

from __future__ import annotations

import re

from tests.browser.conftest import shoot, sign_in

JOB_URL = re.compile(r"/api/v1/(images|videos)/(img|vid)_[\w-]+(/events)?$")


def _job_requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if JOB_URL.search(request.url) else None)
    return seen


def test_the_studio_shows_live_status_from_the_event_stream_without_polling(page, muse):
    sign_in(page, "user_live_images")
    seen = _job_requests(page)
    page.get_by_role("link", name="Studio", exact=True).click()
    page.get_by_label("Prompt", exact=True).fill("a kite over the dunes")
    page.get_by_role("button", name="Generate").click()
    page.get_by_role("status").get_by_text("Done").wait_for()
    assert len(seen) == 1 and seen[0].endswith("/events"), seen  # one stream, no GET of the job


def test_make_a_video_see_its_status_live_then_play_and_seek(page, muse):
    sign_in(page, "user_videos")
    seen = _job_requests(page)
    page.get_by_role("link", name="Videos", exact=True).click()
    page.get_by_label("Prompt", exact=True).fill("a paper boat on a pond")
    page.get_by_label("Length (seconds)").fill("2")
    page.get_by_label("Aspect ratio").select_option("9:16")
    page.get_by_text("Costs 20 credits").wait_for()
    page.get_by_role("button", name="Make video").click()
    page.get_by_role("status").get_by_text("Done: a 2-second video is ready.").wait_for()
    assert [u for u in seen if not u.endswith("/events")] == [] and len(seen) == 1, seen
    shoot(page, "videos")

    ranges: list[int] = []
    page.on("response", lambda r: ranges.append(r.status) if r.url.endswith(".mp4") else None)
    page.get_by_role("link", name=re.compile("a paper boat on a pond")).first.click()
    page.wait_for_url(re.compile(r"/videos/vid_\w+"))
    player = page.locator("video.player")
    player.wait_for()
    page.wait_for_function("() => document.querySelector('video.player').readyState >= 1", timeout=15_000)
    info = player.evaluate("v => ({d: v.duration, w: v.videoWidth, h: v.videoHeight})")
    assert abs(info["d"] - 2.0) < 0.2 and abs(info["w"] / info["h"] - 9 / 16) < 0.01, info
    player.evaluate("""v => new Promise((resolve) => {
        v.addEventListener('seeked', resolve, { once: true }); v.currentTime = 1.5; })""")
    assert abs(player.evaluate("v => v.currentTime") - 1.5) < 0.2
    assert 206 in ranges, ranges  # the browser fetched byte ranges of the MP4
    shoot(page, "video-detail")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Saved").wait_for()
