"""1312 catalogue query: the medical catalogue (医保目录), paged, as the catalogue domain answers it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from yibao.catalogue import service as catalogue
from yibao.core.auth import Scope, rule
from yibao.nhsa.registry import Context, Input, transaction

# Every message is audited (who, infno, msgid, outcome), 1312 too, although reading the catalogue over REST
# is not (catalogue.read): the message's own rule.
CATALOGUE = rule("nhsa.catalogue.read", "医保目录查询 / catalogue query (1312)", writes=False, institution=Scope.ANY)

# Page size when the HIS names none (assumed; the convention leaves it to the platform).
DEFAULT_PAGE_SIZE = 100


@transaction("1312", action=CATALOGUE, writes=False)
def catalogue_query(ctx: Context, inp: Input) -> dict[str, Any]:
    """目录查询: data {query_date, hilist_code, updt_time, page_num, page_size} → the page (data[], pageNum, ...)."""
    data = inp.node("data", required=False) or inp
    page = catalogue.query(
        ctx.session,
        on=data.date("query_date", required=False),
        code=data.text("hilist_code", max_len=50, required=False),
        updated_since=data.datetime("updt_time", required=False),
        page=data.integer("page_num", lo=1, hi=catalogue.PAGE_MAX, required=False) or 1,
        size=data.integer("page_size", lo=1, hi=catalogue.PAGE_SIZE_MAX, required=False) or DEFAULT_PAGE_SIZE,
    )
    out = page.model_dump(mode="json")
    for row in out["data"]:
        # Amounts go out as exact JSON numbers, as every amount of the interface.
        if row["pric_uplmt_amt"] is not None:
            row["pric_uplmt_amt"] = Decimal(row["pric_uplmt_amt"])
    return out
