"""Ports of the admin domain: the read models of the admin API (`repositories/admin_stats.py`) and
what account deletion (services/admin/erasure.py) and the data export (services/admin/export.py)
need from the other domains."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from services.admin.export_model import ExportJob
from services.identity.ports.users import User
from services.platform.principal import Role


@runtime_checkable
class StatsRepository(Protocol):
    async def users(self, *, since: datetime) -> dict[str, int]: ...
    async def active_user_ids(self, *, since: datetime) -> set[str]: ...
    async def ledger_totals(self, *, kind: str, since: datetime, item: str | None = None
                            ) -> dict[str, int]: ...
    async def refunds(self, *, since: datetime, reason_prefix: str) -> dict[str, int]: ...
    async def images(self, *, since: datetime, collection: str = "images") -> dict[str, int]: ...
    async def revenue(self, *, since: datetime) -> dict[str, dict[str, Any]]: ...


@runtime_checkable
class UserActivity(Protocol):
    async def recent_ledger(self, user_id: str, *, limit: int) -> list[dict[str, Any]]: ...
    async def recent_generations(self, user_id: str, *, limit: int) -> list[dict[str, Any]]: ...


# What user management and account deletion need from the identity domain (its
# services/identity/users.py `UserService` and api_keys.py `ApiKeyService`).

class Users(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_or_raise(self, user_id: str) -> User: ...

    async def get_by_clerk_id(self, clerk_id: str) -> User | None: ...

    async def ensure_clerk_user(self, clerk_id: str) -> User: ...

    async def search(self, q: str | None = None, limit: int = 20, cursor: str | None = None
                     ) -> list[User]: ...

    async def set_role(self, user_id: str, role: Role) -> User: ...

    async def set_plan(self, user_id: str, plan: str, *, role: Role | None = None) -> User: ...

    async def set_disabled(self, user_id: str, disabled: bool) -> User: ...

    async def anonymise(self, user_id: str) -> User: ...


class ApiKeys(Protocol):
    async def revoke_all(self, user_id: str) -> int: ...


# Account deletion (services/admin/erasure.py): what it needs from the other domains.

class OwnAccounts(Protocol):
    """Muse's own accounts (services/identity/accounts.py `AccountService`)."""

    def owns(self, subject: str) -> bool: ...

    async def check_password(self, subject: str, password: str | None) -> None: ...

    async def close(self, subject: str) -> int: ...


class Conversations(Protocol):
    async def list_conversations(self, user_id: str, *, limit: int, cursor: str | None
                                 ) -> tuple[list[Any], str | None]: ...

    async def delete_conversation(self, user_id: str, conversation_id: str) -> None: ...


class MediaRecords(Protocol):
    async def list(self, user_id: str, *, status: str | None = None, saved: bool | None = None,
                   limit: int = 20, cursor: str | None = None) -> tuple[list[Any], str | None]: ...

    async def delete(self, user_id: str, image_id: str) -> None: ...


class ShareLinks(Protocol):
    async def revoke_all(self, user_id: str) -> int: ...


class Subscriptions(Protocol):
    """services/payments/subscriptions.py `SubscriptionService`."""

    async def cancel_all(self, user_id: str, *, reason: str) -> int: ...


class Exports(Protocol):
    """services/admin/export.py `DataExport`."""

    async def delete_all(self, user_id: str) -> int: ...


class StoredResponses(Protocol):
    async def delete_all(self, user_id: str) -> int: ...


# Admin analytics (services/admin/analytics.py; repositories/admin_analytics.py)


@dataclass(frozen=True, slots=True)
class PaidPayment:
    """A settled payment: who paid, what was captured when, and its refunds (amount, when)."""

    user_id: str
    completed_at: datetime
    amount: Decimal
    currency: str
    refunds: tuple[tuple[Decimal, datetime], ...] = ()


class AnalyticsRepository(Protocol):
    """The reads behind the analytics (repositories/admin_analytics.py)."""

    async def usage_days(self, *, first: str, last: str) -> list[dict[str, Any]]:
        """Every user's usage rollup documents for the UTC days first..last."""
        ...

    async def payments(self, *, since: datetime, until: datetime) -> list[PaidPayment]:
        """Settled payments captured, or refunded, in [since, until)."""
        ...

    async def plans(self, user_ids: list[str]) -> dict[str, str]:
        """The plan of each user (users not found are left out)."""
        ...

    async def emails(self, user_ids: list[str]) -> dict[str, str]:
        """The email of each user that has one."""
        ...


# Budget alerts (services/admin/alerts.py; repositories/alerts.py)


@runtime_checkable
class AlertStore(Protocol):
    """Budget alert thresholds and their once-per-period notices (one document per owner:
    `user:<id>`, or `service`), and the service's provider cost per UTC day."""

    async def get(self, owner: str) -> dict[str, Any] | None:
        """`threshold`, `by` (who set it), `notified` (the last period noticed), `notified_at`."""
        ...

    async def thresholds(self, owners: list[str]) -> dict[str, float]:
        """The thresholds set among `owners` (one query)."""
        ...

    async def set(self, owner: str, threshold: float | None, *, by: str) -> None:
        """Set (None: remove) the threshold; a new threshold may notify again this period."""
        ...

    async def claim(self, owner: str, period: str) -> bool:
        """True for exactly one caller per owner and period (atomic): the one who sends the notice."""
        ...

    async def add_cost(self, day: str, micro_usd: int) -> int:
        """Add to the service's provider cost of `day`; the day's total after it (atomic)."""
        ...

    async def cost(self, day: str) -> int:
        """The service's provider cost of `day` so far (micro-dollars)."""
        ...


# -- data export (services/admin/export.py) ------------------------------------------------------

class ExportRepository(Protocol):
    """Export jobs (`repositories/exports.py`) and the one-running-export-per-user lock."""

    async def create(self, job: ExportJob) -> None: ...

    async def get(self, export_id: str) -> ExportJob | None: ...

    async def update(self, export_id: str, fields: dict[str, Any], *,
                     only_if_status: tuple[str, ...] | None = None) -> ExportJob | None: ...

    async def lock(self, user_id: str, export_id: str) -> str | None:
        """Take the user's export lock for `export_id`; None when taken, else the holder's export id."""
        ...

    async def unlock(self, user_id: str, export_id: str) -> None:
        """Release the lock if `export_id` holds it."""
        ...

    async def due(self, *, now: datetime, limit: int) -> list[ExportJob]:
        """Exports whose `expires_at` has passed (and not yet deleted)."""
        ...

    async def for_user(self, user_id: str) -> list[ExportJob]: ...

    async def delete(self, export_id: str) -> None: ...


class Paged(Protocol):
    """A page of records and the next cursor (None at the end)."""

    async def __call__(self, user_id: str, *, limit: int,
                       cursor: str | None) -> tuple[list[Any], str | None]: ...


class ArchiveWriter(Protocol):
    async def add(self, name: str, chunks: AsyncIterator[bytes]) -> None:
        """One member of the archive, written chunk by chunk (never whole in memory)."""
        ...


class ArchiveStore(Protocol):
    """Zip archives by id (`providers/zip_archives.py`)."""

    def create(self, archive_id: str) -> AbstractAsyncContextManager[ArchiveWriter]:
        """Write an archive; it appears (whole) only when the block ends without an error."""
        ...

    def size(self, archive_id: str) -> int | None: ...

    def read(self, archive_id: str) -> AsyncIterator[bytes]: ...

    async def delete(self, archive_id: str) -> bool: ...


class ExportSources(Protocol):
    """Where each file of the archive comes from: pages of the user's records, as JSON-ready dicts."""

    def sections(self, user_id: str) -> list[tuple[str, Callable[[], AsyncIterator[dict[str, Any]]]]]: ...
