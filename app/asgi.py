"""ASGI entry point for any ASGI server (`uvicorn app.asgi:app`); `python -m app serve` adds the drain."""

from app import create_app

app = create_app()
