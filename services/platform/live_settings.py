"""Live settings: switches an admin flips at run time (maintenance, features, providers, signup credits).

Stored in one MongoDB document and read through a short per-process cache
(`ttl`, default 2 s), so a change made in one process applies in every
process within a few seconds. Every change is written to the audit log.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict, Field

from services.platform.clock import utcnow
from services.platform.errors import Conflict, ValidationFailed
from services.platform.ports.audit import AuditRecorder
from services.platform.ports.live_settings import LiveSettingsRepository
from services.platform.ports.named import Named
from services.platform.prices import check_prices

log = structlog.stdlib.get_logger("muse.live_settings")

FLAGS = ("maintenance_mode", "chat_enabled", "images_enabled")
EDITABLE = (*FLAGS, "signup_credits", "providers", "provider_prices")
MAX_SIGNUP_CREDITS = 1_000_000
MAX_PRICED_MODELS = 200
_PROVIDER_NAME = re.compile(r"[a-z0-9_-]{1,32}")


class LiveSettings(BaseModel):
    """One snapshot of the live settings."""

    model_config = ConfigDict(frozen=True)

    maintenance_mode: bool = False
    chat_enabled: bool = True
    images_enabled: bool = True
    signup_credits: int = Field(default=0, ge=0)
    providers: dict[str, bool] = Field(default_factory=dict)
    # USD per provider model over PROVIDER_PRICES (services/credits/metering.py): input_per_1m, ...
    provider_prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None

    def provider_enabled(self, name: str) -> bool:
        """Whether provider `name` may be called (unknown providers are enabled)."""
        return self.providers.get(name, True)

    def editable(self) -> dict[str, Any]:
        """The fields an admin can change, as plain data."""
        return self.model_dump(include=set(EDITABLE))


P = TypeVar("P", bound=Named)


class LiveSettingsService:
    """Cached reads and audited, versioned writes of the live settings."""

    def __init__(self, repo: LiveSettingsRepository, audit: AuditRecorder, *,
                 defaults: LiveSettings | None = None, known_providers: Iterable[str] = (),
                 ttl: float = 2.0, monotonic: Callable[[], float] = time.monotonic,
                 refresh_timeout_s: float = 0.5) -> None:
        self._repo, self._audit = repo, audit
        self._refresh_timeout = refresh_timeout_s  # a refresh with a last known value fails fast
        self._defaults = defaults or LiveSettings()
        self._known = {*known_providers, *self._defaults.providers}
        self._ttl, self._monotonic = ttl, monotonic
        self._cached: LiveSettings | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> LiveSettings:
        """The live settings, at most `ttl` s old (plus one read); last known or defaults if MongoDB fails."""
        if self._cached is not None and (self._monotonic() < self._expires or self._lock.locked()):
            return self._cached  # fresh, or another task is refreshing it: never queue requests
        async with self._lock:
            if self._cached is not None and self._monotonic() < self._expires:
                return self._cached
            try:
                if self._cached is None:
                    live = self._merge(await self._repo.get())
                else:  # a hung database costs a request at most this long (contract §16)
                    async with asyncio.timeout(self._refresh_timeout):
                        live = self._merge(await self._repo.get())
            except Exception as exc:  # a settings outage must not take the API down
                log.warning("live_settings_unavailable", error=type(exc).__name__)
                live = self._cached or self._defaults
            self._remember(live)
            return live

    def provider_enabled(self, live: LiveSettings, name: str) -> bool:
        """Whether provider `name` is switched on in `live`."""
        return live.provider_enabled(name)

    async def enabled(self, providers: Sequence[P]) -> list[P]:
        """`providers` in their order, without those switched off (each has a `.name`)."""
        live = await self.current()
        return [p for p in providers if live.provider_enabled(p.name)]

    def invalidate(self) -> None:
        """Forget the cached snapshot (the next `current()` reads MongoDB)."""
        self._expires = 0.0

    async def update(self, patch: Mapping[str, Any], *, admin_id: str,
                     request_id: str | None, ip: str | None = None) -> LiveSettings:
        """Apply a partial change, audit it and return the new settings (unchanged → no write)."""
        changes = self._validate(patch)
        for _ in range(5):
            before = self._merge(await self._repo.get())
            values = before.editable()
            values.update({k: v for k, v in changes.items() if k not in ("providers", "provider_prices")})
            values["providers"] = {**before.providers, **changes.get("providers", {})}
            prices = {**before.provider_prices, **changes.get("provider_prices", {})}
            values["provider_prices"] = {k: v for k, v in prices.items() if v}  # {} or null: no live price
            if values == before.editable():
                self._remember(before)
                return before
            stamp: dict[str, Any] = {"updated_at": utcnow(), "updated_by": admin_id}
            if await self._repo.save({**values, **stamp}, expected_version=before.version):
                after = LiveSettings(**values, **stamp, version=before.version + 1)
                self._remember(after)
                await self._audit.record(actor_id=admin_id, action="settings.update", target="live_settings",
                                         before=before.editable(), after=after.editable(),
                                         request_id=request_id, ip=ip)
                log.info("live_settings_updated", admin_id=admin_id, changes=changes, version=after.version)
                return after
        raise Conflict("The settings changed concurrently; retry.")

    def _remember(self, live: LiveSettings) -> None:
        self._cached, self._expires = live, self._monotonic() + self._ttl

    def _merge(self, stored: dict[str, Any] | None) -> LiveSettings:
        if not stored:
            return self._defaults
        values = {**self._defaults.model_dump(), **{k: v for k, v in stored.items() if v is not None}}
        values["providers"] = {**self._defaults.providers,
                               **{k: bool(v) for k, v in (stored.get("providers") or {}).items()}}
        return LiveSettings.model_validate(values)

    def _validate(self, patch: Mapping[str, Any]) -> dict[str, Any]:
        errors: list[dict[str, Any]] = []
        changes: dict[str, Any] = {}
        for key, value in patch.items():
            if value is None:
                continue
            if key in FLAGS:
                if isinstance(value, bool):
                    changes[key] = value
                else:
                    errors.append({"loc": ["body", key], "msg": "must be true or false"})
            elif key == "signup_credits":
                if _is_int(value) and 0 <= value <= MAX_SIGNUP_CREDITS:
                    changes[key] = value
                else:
                    errors.append({"loc": ["body", key],
                                   "msg": f"must be an integer 0..{MAX_SIGNUP_CREDITS}"})
            elif key == "providers" and isinstance(value, Mapping):
                changes[key] = self._validate_providers(value, errors)
            elif key == "provider_prices":
                table, wrong = check_prices(value)
                errors += [{**e, "loc": ["body", key, *e["loc"]]} for e in wrong]
                if len(table) > MAX_PRICED_MODELS:
                    errors.append({"loc": ["body", key], "msg": f"at most {MAX_PRICED_MODELS} models"})
                changes[key] = table
            else:
                errors.append({"loc": ["body", key], "msg": "not a live setting"})
        if errors:
            raise ValidationFailed("Invalid settings change.", errors=errors)
        return changes

    def _validate_providers(self, value: Mapping[str, Any], errors: list[dict[str, Any]]) -> dict[str, bool]:
        providers: dict[str, bool] = {}
        for name, enabled in value.items():
            known = name in self._known if self._known else bool(_PROVIDER_NAME.fullmatch(str(name)))
            if not known:
                errors.append({"loc": ["body", "providers", name], "msg": "unknown provider"})
            elif not isinstance(enabled, bool):
                errors.append({"loc": ["body", "providers", name], "msg": "must be true or false"})
            else:
                providers[name] = enabled
        return providers


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
