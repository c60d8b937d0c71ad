"""Logging that never carries a full ID number or mobile number.

:func:`install` replaces the log-record factory, so every record -- yibao's, the web server's,
the database driver's -- is masked when it is created, before any handler sees it: the message
with its arguments, and the text of an attached exception.
"""

from __future__ import annotations

import logging
from typing import Any

from yibao.core.ids import mask_ids_in

_installed = False


def _mask_value(value: Any) -> Any:
    """A log argument with ID and phone numbers masked; numbers and clean objects keep their type."""
    if isinstance(value, str):
        return mask_ids_in(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    masked = mask_ids_in(text)
    return value if masked == text else masked


def install() -> None:
    """Mask ID and phone numbers in every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    base = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        # Mask the template and each argument, keeping the arguments: some formatters (the web
        # server's access log) read them one by one.
        if isinstance(record.msg, str):
            record.msg = mask_ids_in(record.msg)
        else:
            record.msg = _mask_value(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask_value(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_ids_in(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_ids_in(record.stack_info)
        return record

    logging.setLogRecordFactory(masked)
    _installed = True
