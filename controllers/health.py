"""Health endpoints: service report → JSON."""

from __future__ import annotations

from services.platform.health import HealthService


class HealthController:
    def __init__(self, health: HealthService) -> None:
        self._health = health

    async def readiness(self, *, draining: bool = False) -> tuple[dict, int]:
        """200 when every dependency is up, 503 `degraded` otherwise; 503 `draining` at once on shutdown."""
        if draining:
            return {"status": "draining", "version": self._health.version, "checks": {}}, 503
        report = await self._health.report()
        checks = {}
        for name, result in report.checks.items():
            entry = {"status": result.status, "latency_ms": result.latency_ms, **result.info}
            if result.error:
                entry["error"] = result.error
            checks[name] = entry
        body = {"status": report.status, "version": report.version, "checks": checks}
        return body, 200 if report.ok else 503

    async def liveness(self) -> dict:
        """The process serves."""
        return {"status": "ok"}
