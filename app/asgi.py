"""ASGI entry point for Hypercorn: `hypercorn app.asgi:app`."""

from app import create_app

app = create_app()
