"""Start-up of `python -m app serve|worker` (issue 12: first request served < 1 s after start)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import sys
from collections.abc import Iterable

import structlog

log = structlog.stdlib.get_logger("muse.startup")


def startup_done() -> None:
    """Turn the garbage collector back on after start-up (`python -m app` turns it off), with
    every object made so far frozen: they live as long as the process, so no collection walks
    them again (less CPU per collection, no long full collections while serving)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def lazy_sdks(providers: Iterable[object]) -> list[str]:
    """The SDK modules that `providers` import on first use (their `lazy_sdk`), in order, once each."""
    return list(dict.fromkeys(name for p in providers if (name := getattr(p, "lazy_sdk", None))))


def render_libs(providers: Iterable[object]) -> list[str]:
    """The libraries `providers` load on their first job (their `render_libs`: PyAV, Pillow), in
    order, once each. A standalone worker preloads them; a web process never does (its RSS)."""
    return list(dict.fromkeys(name for p in providers for name in getattr(p, "render_libs", ())))


def _import_all(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the first call that needs it will raise it where it is handled
            log.warning("sdk_preload_failed", module=name, error=f"{type(exc).__name__}: {exc}")
    log.info("libraries_preloaded", modules=modules)


def preload(modules: list[str]) -> asyncio.Future[None] | None:
    """Import `modules` in a thread, so the first call to a provider does not wait for its SDK
    (~0.4 s for openai) while start-up does not either; None when there is nothing to load.

    Requests are served meanwhile; one that needs the SDK before it is loaded waits for it
    (Python's import lock), as it would have at start-up."""
    todo = [name for name in modules if name not in sys.modules]
    if not todo:
        return None
    return asyncio.get_running_loop().run_in_executor(None, _import_all, todo)
