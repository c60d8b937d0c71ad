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


def install() -> None:
    """Mask ID and phone numbers in every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    base = logging.getLogRecordFactory()

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: keep what there is
            message = str(record.msg)
        record.msg, record.args = mask_ids_in(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_ids_in(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_ids_in(record.stack_info)
        return record

    logging.setLogRecordFactory(masked)
    _installed = True
