"""No log line carries a full ID number or mobile number: masked when the record is made, whoever logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.factories import new_id
from yibao.core import logs
from yibao.core.ids import find_full_ids, mask_ids_in


@pytest.fixture(autouse=True)
def _installed() -> None:
    logs.install()


def test_messages_and_arguments_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    idn = new_id()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("yibao.test").info("查询参保人 %s，电话 %s", idn, "13912345678")
        logging.getLogger("yibao.test").warning(f"inline {idn.lower()}")
    assert idn not in caplog.text and idn.lower() not in caplog.text and "13912345678" not in caplog.text
    assert mask_ids_in(idn) in caplog.text and "139****5678" in caplog.text


def test_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    idn = new_id()
    with caplog.at_level(logging.DEBUG):
        try:
            raise ValueError(f"no such person {idn}")
        except ValueError:
            logging.getLogger("yibao.test").exception("lookup failed")
    handler_text = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert "lookup failed" in handler_text and "no such person" in handler_text
    assert not find_full_ids(handler_text)


def test_sql_parameters_are_masked_even_when_sql_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    idn = new_id()
    engine = create_engine("sqlite://", echo=True)
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"), engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id_number TEXT)"))
        conn.execute(text("INSERT INTO t VALUES (:i)"), {"i": idn})
    assert any("INSERT" in r.getMessage() for r in caplog.records)
    assert idn not in caplog.text and not find_full_ids(caplog.text)


def test_requests_with_id_numbers_in_the_path(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    idn = new_id()
    with caplog.at_level(logging.DEBUG):
        client.get(f"/api/people/{idn}")
        client.get(f"/api/accounts/{idn}/records")
    assert "/api/people/" in caplog.text  # the HTTP client logged the request ...
    assert not find_full_ids(caplog.text)  # ... without the number


def test_only_valid_numbers_count_as_leaks() -> None:
    idn = new_id()
    assert find_full_ids(f"x {idn} y") == [idn]
    assert find_full_ids("order 123456789012345678") == []  # not a valid ID number
    assert find_full_ids(mask_ids_in(idn)) == []


def _access_lines(paths: list[str], status: int) -> list[str]:
    """Access-log lines for requests to ``paths``, as the web server logs and formats them."""
    from uvicorn.logging import AccessFormatter

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("uvicorn.access.test")
    logger.addHandler(keep := Keep())
    try:
        for path in paths:
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", status)
    finally:
        logger.removeHandler(keep)
    fmt = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    return [fmt.format(record) for record in records]


def test_the_web_servers_access_log_is_masked_and_still_formats() -> None:
    idn = new_id()
    (line,) = _access_lines([f"/api/people/{idn}"], 200)
    assert "/api/people/" in line and "200" in line
    assert idn not in line and not find_full_ids(line)


@pytest.mark.parametrize(
    "prefix",
    ["%2B", "%2C", "%3B", "%252F", "%EF%BB%BF", "%20", "%25", "x", "id=", "-"],
)
def test_access_log_masks_ids_after_encoded_separators(prefix: str) -> None:
    idn = new_id()
    paths = [f"/api/people/{prefix}{idn}", f"/api/people/{prefix}{idn}{prefix}", f"/api/x?q={prefix}{idn}"]
    for line in _access_lines(paths, 422):
        assert "/api/" in line and "422" in line
        assert idn not in line and not find_full_ids(line), line


def test_leak_detection_sees_ids_glued_to_other_text() -> None:
    idn = new_id()
    for line in (f"%2B{idn}", f"%20{idn}", f"abc{idn}def", f"{idn}%3B"):
        assert find_full_ids(line) == [idn], line
        assert idn not in mask_ids_in(line) and not find_full_ids(mask_ids_in(line))
