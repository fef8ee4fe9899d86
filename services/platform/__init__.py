"""The shared kernel: clock, errors, ids, the principal, the catalogue, live settings, failover,
coalescing, rate limits, metrics, health, housekeeping, idempotency and upload checks."""
