"""`image_url` fetching (issue 19): the checked address is the address connected to (no DNS rebinding).

No traffic leaves loopback: a fake resolver maps test host names to 127.0.0.x addresses, and an
address check stands in for "public" (127.0.0.1 plays a public host, anything else a private one).
"""

from __future__ import annotations

import pytest

from providers.remote_fetch import fetch_remote_image, is_public
from services.platform.errors import UpstreamError, ValidationFailed
from tests.fakes.http_server import FakeHTTPServer
from tests.fixtures.images import picture

PNG = picture()


class ImageHost(FakeHTTPServer):
    """Serves /cat.png, and /go?to=<url> as a 302 to that URL; records the Host headers."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: list[str] = []

    def handle(self, method, path, headers, body):
        self.hosts.append(headers.get("Host", ""))
        if path.startswith("/go?to="):
            return 302, {"Location": path.split("=", 1)[1]}, b""
        if path == "/cat.png":
            return 200, {"Content-Type": "image/png"}, PNG
        return 404, {}, b""


@pytest.fixture
def host():
    with ImageHost() as server:
        yield server


def _port(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


class Resolver:
    """A fake DNS: each name answers its list of addresses in turn (the last one repeats)."""

    def __init__(self, **names: list[str]) -> None:
        self.names = {k.replace("_", "."): list(v) for k, v in names.items()}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answers = self.names[host]
        return [answers.pop(0) if len(answers) > 1 else answers[0]]


def _public(address: str) -> bool:
    return address == "127.0.0.1"


async def test_the_checked_address_is_the_one_connected_to_with_the_host_name_kept(host):
    resolve = Resolver(images_example=["127.0.0.1"])
    data = await fetch_remote_image(f"http://images.example:{_port(host)}/cat.png", max_bytes=10**6,
                                    resolve=resolve, allowed=_public)
    assert data == PNG and resolve.asked == ["images.example"]  # resolved once
    assert host.hosts == [f"images.example:{_port(host)}"]


async def test_a_rebinding_name_cannot_reach_the_address_it_switches_to(host):
    # "localhost" first answers an allowed address (127.0.0.2 here), then the private one (127.0.0.1,
    # where the target listens). Resolving again to connect would reach it; the pinned connection
    # goes to the checked 127.0.0.2, where nothing listens.
    resolve = Resolver(localhost=["127.0.0.2", "127.0.0.1"])
    with pytest.raises(UpstreamError):
        await fetch_remote_image(f"http://localhost:{_port(host)}/cat.png", max_bytes=10**6,
                                 resolve=resolve, allowed=lambda a: a == "127.0.0.2")
    assert host.hosts == []  # the private target was never reached


async def test_redirects_are_followed_only_to_checked_addresses(host):
    port = _port(host)
    resolve = Resolver(images_example=["127.0.0.1"], internal_example=["10.0.0.7"])
    follow = f"http://images.example:{port}/go?to=http://images.example:{port}/cat.png"
    assert await fetch_remote_image(follow, max_bytes=10**6, resolve=resolve, allowed=_public) == PNG
    sneaky = f"http://images.example:{port}/go?to=http://internal.example:{port}/cat.png"
    with pytest.raises(ValidationFailed):
        await fetch_remote_image(sneaky, max_bytes=10**6, resolve=resolve, allowed=_public)
    loop = f"http://images.example:{port}/go?to=http://images.example:{port}/go?to=x"
    with pytest.raises(ValidationFailed):
        await fetch_remote_image(loop, max_bytes=10**6, resolve=resolve, allowed=_public, max_redirects=1)


async def test_private_and_odd_addresses_are_refused_by_default():
    for address in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"):
        assert not is_public(address), address
    assert is_public("93.184.216.34")
    with pytest.raises(ValidationFailed):
        await fetch_remote_image("http://metadata.internal/latest", max_bytes=10,
                                 resolve=Resolver(metadata_internal=["169.254.169.254"]))
    with pytest.raises(ValidationFailed):
        await fetch_remote_image("file:///etc/passwd", max_bytes=10)
