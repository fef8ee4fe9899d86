"""The Beanie document models registered with `init_beanie` (indexes included)."""

from __future__ import annotations


def document_models() -> list[type]:
    """Every Beanie document of Muse; add new ones here."""
    from repositories.job_runs import JobRunDocument

    return [JobRunDocument]
