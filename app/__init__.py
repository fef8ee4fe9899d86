"""The Muse application package; `create_app` (app/factory.py) builds the Quart app.

Importing the package loads nothing heavy: `python -m app <command>` runs app/__main__.py after
this file, and it turns the garbage collector off before the imports of start-up (issue 12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":  # `from app import create_app` loads the factory on first use
        from app.factory import create_app

        globals()["create_app"] = create_app
        return create_app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
