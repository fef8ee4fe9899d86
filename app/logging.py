"""structlog set-up: JSON lines on stdout, request context from contextvars.

Standard-library loggers (Uvicorn, arq) go through the same renderer, so
every line of the process is one JSON object.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog
from opentelemetry import trace


def add_trace_id(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """`trace_id` / `span_id` of the current span, when tracing is on (app/telemetry.py)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    add_trace_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _dumps(event: Any, **_: Any) -> str:
    """orjson for the log lines (a third of the cost of `json.dumps` here); repr() for the rest."""
    return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


class JsonLineFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's `ProcessorFormatter`, writing a structlog event without an exception directly.

    Such an event reaches the handler complete (the shared processors ran in the logger), so the
    formatter's copy of the record, its processors (meta removal, exception formatting: nothing to
    do) and the stdlib `Formatter` pass (`%(message)s`) give exactly `_dumps(event)`: one access log
    line per request paid for all of that. Everything else (stdlib loggers, exceptions) goes the
    formatter's way."""

    def format(self, record: logging.LogRecord) -> str:
        event = record.msg
        if (type(event) is dict and "_logger" in record.__dict__ and "exc_info" not in event
                and not record.exc_info and not record.stack_info):
            return _dumps(event)
        return super().format(record)


def json_formatter() -> logging.Formatter:
    """The formatter every handler of the process uses (JSON, tracebacks as text)."""
    return JsonLineFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
    )


def configure_logging(level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to JSON lines on `stream` (stdout: a server's logs; a CLI
    command whose answer is its stdout logs to stderr)."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_muse", False) or type(existing) is logging.StreamHandler:
            root.removeHandler(existing)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(json_formatter())
    handler._muse = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The logging HOWTO's "Optimization": no line of ours prints the caller, thread or process
    # fields, so the stdlib need not look them up for every record (a stack walk per line).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for noisy in ("pymongo", "httpx", "httpcore", "urllib3", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to `name`."""
    return structlog.stdlib.get_logger(name)
