"""ccf serve's log records as a file, a pipe or journald reads them: one record a line, as
text stamped in ISO 8601, as JSON, or journald's level prefix. Formatting only; must not
configure handlers or decide where the log goes (cli/serve.py does)."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from ccdsl import json_text
from ccdsl.terminal_text import visible

# a LogRecord's own attributes; anything else on it came in `extra=` and is a field
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}

# syslog priorities, which journald reads from a line's "<N>" prefix
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


def iso_time(created: float) -> str:
    """A record's time, local with its offset, to the millisecond:
    2026-12-06T07:10:43.123+00:00 (datetime.fromisoformat reads it back)."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


def _message(record: logging.LogRecord) -> str:
    message = record.getMessage()
    if record.exc_info:
        message += "\n" + logging.Formatter().formatException(record.exc_info)
    return message


class TextFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER MESSAGE` on one line: control characters and line
    breaks in the message (a caller's number, a peer's text, a traceback) as
    visible escapes, so no value can split or forge a record."""

    def format(self, record: logging.LogRecord) -> str:
        return (f"{iso_time(record.created)} {record.levelname} {record.name} "
                f"{visible(_message(record))}")


class JournalFormatter(logging.Formatter):
    """`<PRIORITY>LOGGER: MESSAGE` for journald, which stamps each line itself
    and reads its level from the prefix; one record a line, escaped."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return f"<{priority}>{record.name}: {visible(_message(record))}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, the record's extra
    fields and (after an exception) exc. Values stay as they came: JSON
    escapes them, ASCII only, so none reaches a terminal raw."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {"ts": iso_time(record.created), "level": record.levelname,
                                "logger": record.name, "msg": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        if record.exc_info:
            data["exc"] = logging.Formatter().formatException(record.exc_info)
        try:
            return json_text.dumps(data, default=str, ensure_ascii=True)
        except json_text.NotJson:
            # a log line is never refused: a number that is not finite is written as null
            # (walked for only then: every line is formatted here)
            return json_text.dumps(json_text.nulled(data), default=str, ensure_ascii=True)


def under_journald(stream: Any) -> bool:
    """True when `stream` is the one journald gave this process:
    JOURNAL_STREAM names its device:inode (a child whose stderr was
    redirected keeps the variable but not the stream)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in expected.split(":"))
        info = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (info.st_dev, info.st_ino) == (device, inode)
