"""Reconciliation of details as a hospital's system drives it: 9101 upload, 3202 compare, 9102 download.

The hospital's settlements of the period are read from a CSV file with a header naming at least the
convention's columns (``setl_id``, ``mdtrt_id``, ``psn_no``, ``medfee_sumamt``, ``fund_pay_sumamt``,
``acct_pay``, and optionally ``refd_setl_flag``, 0 when absent); other columns are ignored. They go up as the
convention's file (a zip of one TAB-separated UTF-8 text, no header), and the result comes down as rows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from yibao.his.client import Client

COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "refd_setl_flag")
RESULT_COLUMNS = (
    *(f"fixmedins_{c}" for c in COLUMNS),
    *(f"yibao_{c}" for c in COLUMNS),
    "reason",
)


class RowsError(ValueError):
    """A settlements file that cannot be read (the message names the file, the row and the column)."""


@dataclass(slots=True)
class Reconciliation:
    """What a reconciliation of details ended with: the upload's and the result's answers, the result's rows."""

    upload: dict[str, Any]
    fileinfo: dict[str, Any]
    content: bytes  # the result file as downloaded (a zip)
    rows: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``--json``)."""
        return {"upload": self.upload, "fileinfo": self.fileinfo, "rows": self.rows}


def read_rows(path: Path) -> list[dict[str, str]]:
    """The settlements of a CSV file (with a header) as the seven columns of the convention, as text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RowsError(f"{path}: 无法读取（应为UTF-8编码的CSV）/ cannot read: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS[:-1] if c not in (reader.fieldnames or [])]
    if missing:
        raise RowsError(f"{path}: 缺少列 / missing columns: {', '.join(missing)}")
    rows = []
    for n, record in enumerate(reader, 2):
        row = {c: (record.get(c) or "").strip() for c in COLUMNS}
        row["refd_setl_flag"] = row["refd_setl_flag"] or "0"
        for c in COLUMNS[3:6]:
            try:
                Decimal(row[c])
            except InvalidOperation:
                raise RowsError(f"{path} 第{n}行 {c}: 不是金额 / not an amount: {row[c]!r}") from None
        rows.append(row)
    return rows


def detail_file(rows: list[dict[str, str]], name: str = "detail.txt") -> bytes:
    """The convention's upload file: a zip of one TAB-separated UTF-8 text, one settlement a line."""
    text = "".join("\t".join(row[c] for c in COLUMNS) + "\n" for row in rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def totals(rows: list[dict[str, str]]) -> dict[str, Any]:
    """The period's totals a 3202 carries: those of the settlements that stand (not reversed)."""
    standing = [r for r in rows if r["refd_setl_flag"] != "1"]
    medfee, fund, acct = (sum((Decimal(r[c]) for r in standing), Decimal("0.00")) for c in COLUMNS[3:6])
    # Cash is what neither the fund nor the account paid (the file has no column for the hospital's part).
    return {
        "medfee_sumamt": medfee,
        "fund_pay_sumamt": fund,
        "cash_payamt": medfee - fund - acct,
        "fixmedins_setl_cnt": len(standing),
    }


def result_rows(content: bytes) -> list[dict[str, str]]:
    """The rows of a 3202 result file (a zip of one TAB-separated text), by column name."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    return [dict(zip(RESULT_COLUMNS, line.split("\t"), strict=False)) for line in text.splitlines() if line]


def reconcile(
    client: Client,
    rows: list[dict[str, str]],
    *,
    begin: date,
    end: date,
    clr_type: str,
    setl_optins: str,
    filename: str | None = None,
) -> Reconciliation:
    """Upload the rows (9101), reconcile them for the period (3202) and download the result (9102)."""
    name = filename or f"{client.code}_{begin:%Y%m%d}_{end:%Y%m%d}.zip"
    upload = client.upload_file(detail_file(rows, name.removesuffix(".zip") + ".txt"), name)
    data = {
        "setl_optins": setl_optins,
        "file_qury_no": upload["file_qury_no"],
        "stmt_begndate": begin.isoformat(),
        "stmt_enddate": end.isoformat(),
        "clr_type": clr_type,
        **totals(rows),
    }
    fileinfo = client.call("3202", {"data": data})["fileinfo"]
    content = client.download_file(fileinfo["file_qury_no"], fileinfo["filename"])
    return Reconciliation(upload, fileinfo, content, result_rows(content))
