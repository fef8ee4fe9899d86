"""PUBLIC_BASE_URL and the checkout URLs default to the port Muse serves on (image URLs, problem types)."""

from __future__ import annotations

from app.config import Settings


def test_unset_urls_follow_the_port():
    settings = Settings(_env_file=None, port=8104)  # type: ignore[call-arg]
    assert settings.public_base_url == "http://localhost:8104"
    assert settings.checkout_success_url == "http://localhost:8104/checkout/success"
    assert settings.checkout_cancel_url == "http://localhost:8104/checkout/cancel"


def test_explicit_urls_are_kept():
    settings = Settings(_env_file=None, port=8104, public_base_url="https://api.example.com/",  # type: ignore[call-arg]
                        checkout_success_url="muse://paid")
    assert settings.public_base_url == "https://api.example.com"
    assert settings.checkout_success_url == "muse://paid"
    assert settings.checkout_cancel_url == "http://localhost:8104/checkout/cancel"


def test_default_port_keeps_the_documented_default():
    assert Settings(_env_file=None).public_base_url == "http://localhost:8000"  # type: ignore[call-arg]
