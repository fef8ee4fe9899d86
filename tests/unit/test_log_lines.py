"""The process's JSON log lines (app/logging.py): structlog events written without a second record."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from app.logging import _SHARED, _dumps, configure_logging


def structlog_formatter() -> logging.Formatter:
    """structlog's own `ProcessorFormatter` as app/logging.py configures it: the reference."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(serializer=_dumps)])


def drop_time(line: str) -> dict:
    data = json.loads(line)
    assert data.pop("timestamp")
    return data


class Both(logging.Handler):
    """Formats every record with the process's formatter and with the reference, in that order."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.fast, self.reference = formatter, structlog_formatter()
        self.pairs: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.pairs.append((self.fast.format(record), self.reference.format(record)))


@pytest.fixture
def handler() -> Iterator[Both]:
    configure_logging("INFO", stream=io.StringIO())
    root = logging.getLogger()
    both = Both(root.handlers[-1].formatter)  # type: ignore[arg-type]
    root.addHandler(both)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id="rid-1")
    yield both
    root.removeHandler(both)
    structlog.contextvars.clear_contextvars()
    configure_logging("INFO")


def test_every_line_is_the_one_structlogs_formatter_writes(handler: Both):
    log = structlog.stdlib.get_logger("muse.access")
    log.info("request", method="GET", path="/x", status=200, duration_ms=1.5, principal=None, accent="é")
    log.warning("odd", value=object.__new__(object), nested={"b": [1, 2]})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed", step=2)
    logging.getLogger("uvicorn.error").info("stdlib %s", "line")
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("stdlib failure")
    assert len(handler.pairs) == 5
    for fast, reference in handler.pairs[:3]:  # structlog's events: byte for byte
        assert fast == reference
    for fast, reference in handler.pairs[3:]:  # stdlib records are stamped as each formatter runs
        assert drop_time(fast) == drop_time(reference)
    assert '"request_id":"rid-1"' in handler.pairs[0][0] and "RuntimeError: boom" in handler.pairs[2][0]


def test_a_structlog_line_makes_one_log_record(handler: Both):
    made = 0
    factory = logging.getLogRecordFactory()

    def counting(*args, **kwargs) -> logging.LogRecord:  # type: ignore[no-untyped-def]
        nonlocal made
        made += 1
        return factory(*args, **kwargs)

    root = logging.getLogger()
    root.removeHandler(handler)  # only the process's own handler
    logging.setLogRecordFactory(counting)
    try:
        structlog.stdlib.get_logger("muse.access").info("request", status=200)
    finally:
        logging.setLogRecordFactory(factory)
        root.addHandler(handler)
    assert made == 1  # the logger's; structlog's formatter copied it for every handler
