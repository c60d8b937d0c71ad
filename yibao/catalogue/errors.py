"""The catalogue's refusals: a bad row of an import file (with its line), an unknown or out-of-date code."""

from __future__ import annotations

from yibao.core.errors import AppError, NotFound


class BadRow(AppError):
    """A catalogue file refused whole because of one row: names its line and field; nothing is written."""

    code = "catalogue.bad_row"
    http_status = 422
    exit_code = 2

    def __init__(self, line: int | None, field: str, message_zh: str, message_en: str) -> None:
        where_zh = f"第{line}行 " if line is not None else ""
        where_en = f"line {line}, " if line is not None else ""
        super().__init__(
            f"{where_zh}{field}：{message_zh}",
            f"{where_en}{field}: {message_en}",
            details={"line": line, "field": field},
        )
        self.line = line
        self.field = field


class ItemNotFound(NotFound):
    """No version of a code in force on the day asked for (or no such code at all)."""

    code = "catalogue.not_found"
