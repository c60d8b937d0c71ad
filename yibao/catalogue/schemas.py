"""What the catalogue looks like over HTTP, in ``--json`` output and in transaction 1312 (never the ORM rows).

Field names are the national convention's (docs: shared design, "the national interface"): a 1312 row is
``hilist_code``, ``hilist_name``, ``insu_admdvs``, ``begndate``, ``enddate``, ``med_chrgitm_type``, ``chrgitm_lv``,
``lmt_used_flag``, ``list_type``, ``pric_uplmt_amt``, and a page carries ``pageNum``, ``pageSize``,
``recordCounts``, ``pages``, ``firstPage``, ``lastPage``, ``size`` and ``startRow``. Money is a yuan string.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from yibao.catalogue.models import (
    CHARGE_CLASS_NAMES,
    LIST_TYPE_NAMES,
    MED_CHARGE_TYPES,
    CatalogueItem,
    ChargeClass,
    ListType,
)
from yibao.core.auth import PROVINCE
from yibao.core.dates import utc_iso
from yibao.core.money import format_yuan


class CatalogueRow(BaseModel):
    """One catalogue version as transaction 1312 answers it."""

    hilist_code: str = Field(examples=["XJ01CAA040A001010100001"], description="医保目录编码 / catalogue code")
    hilist_name: str = Field(examples=["阿莫西林胶囊"])
    insu_admdvs: str = Field(examples=["530000"], description="参保机构医保区划 / the catalogue's region")
    begndate: date
    enddate: date | None
    med_chrgitm_type: str = Field(examples=["09"], description="医疗收费项目类别 / charge type")
    chrgitm_lv: str = Field(examples=["01"], description="收费项目等级 01 甲 / 02 乙 / 03 丙")
    lmt_used_flag: str = Field(examples=["0"])
    list_type: str = Field(examples=["101"], description="目录类别 101 / 102 / 201 / 301")
    pric_uplmt_amt: str | None = Field(examples=["12.50"], description="最高限价（元）/ price ceiling, yuan")


class CataloguePage(BaseModel):
    """One page of catalogue versions, paged as transaction 1312 pages them."""

    data: list[CatalogueRow]
    pageNum: int = Field(description="当前页数 / this page's number, from 1")
    pageSize: int = Field(description="每页条数 / rows per page asked for")
    recordCounts: int = Field(description="总记录数 / matching rows in all")
    pages: int = Field(description="总页数 / number of pages (0 when nothing matches)")
    firstPage: int = Field(description="首页 / first page number (0 when nothing matches)")
    lastPage: int = Field(description="末页 / last page number (0 when nothing matches)")
    size: int = Field(description="本页条数 / rows on this page")
    startRow: int = Field(description="本页首行序号 / number of this page's first row, from 1 (0 when empty)")


class VersionOut(BaseModel):
    """A version of an item, in the list of its history."""

    begndate: date
    enddate: date | None
    chrgitm_lv: str
    pric_uplmt_amt: str | None
    name: str


class CatalogueItemOut(BaseModel):
    """A catalogue item as in force on a day, with every version of its code."""

    med_list_codg: str
    name: str
    list_type: str
    list_type_name: str
    chrgitm_lv: str
    chrgitm_lv_name: str
    med_chrgitm_type: str
    med_chrgitm_type_name: str
    pric_uplmt_amt: str | None
    begndate: date
    enddate: date | None
    lmt_used_flag: str
    bas_medn_flag: str
    hi_nego_drug_flag: str
    chld_medc_flag: str
    list_sp_item_flag: str
    drt_reim_flag: str
    updt_time: str = Field(description="更新时间（UTC）/ when this version was last written")
    versions: list[VersionOut] = []


class ImportReport(BaseModel):
    """What an import did: rows read, versions added, changed, closed, or already as in the file."""

    file: str
    rows: int = Field(description="文件中的目录行数 / catalogue rows in the file")
    codes: int = Field(description="其中不同编码数 / distinct codes among them")
    added: int = Field(description="新增版本 / versions added")
    updated: int = Field(description="内容变更的版本 / versions whose content changed")
    closed: int = Field(description="因新版本而截止的原有版本 / open versions closed by a newer one")
    unchanged: int = Field(description="与库中一致的行 / rows already as in the file")


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def row_out(item: CatalogueItem) -> CatalogueRow:
    """The 1312 form of a version (the provincial catalogue: ``insu_admdvs`` is the province)."""
    return CatalogueRow(
        hilist_code=item.code,
        hilist_name=item.name,
        insu_admdvs=PROVINCE,
        begndate=item.begin,
        enddate=item.end,
        med_chrgitm_type=item.med_chrgitm_type,
        chrgitm_lv=item.chrgitm_lv,
        lmt_used_flag=item.lmt_used_flag,
        list_type=item.list_type,
        pric_uplmt_amt=_yuan(item.price_ceiling),
    )


def item_out(item: CatalogueItem, versions: list[CatalogueItem] | None = None) -> CatalogueItemOut:
    """The full form of a version, with the history of its code when given."""
    list_zh, list_en = LIST_TYPE_NAMES[ListType(item.list_type)]
    class_zh, class_en = CHARGE_CLASS_NAMES[ChargeClass(item.chrgitm_lv)]
    return CatalogueItemOut(
        med_list_codg=item.code,
        name=item.name,
        list_type=item.list_type,
        list_type_name=f"{list_zh} / {list_en}",
        chrgitm_lv=item.chrgitm_lv,
        chrgitm_lv_name=f"{class_zh} / {class_en}",
        med_chrgitm_type=item.med_chrgitm_type,
        med_chrgitm_type_name=MED_CHARGE_TYPES.get(item.med_chrgitm_type, ""),
        pric_uplmt_amt=_yuan(item.price_ceiling),
        begndate=item.begin,
        enddate=item.end,
        lmt_used_flag=item.lmt_used_flag,
        bas_medn_flag=item.bas_medn_flag,
        hi_nego_drug_flag=item.hi_nego_drug_flag,
        chld_medc_flag=item.chld_medc_flag,
        list_sp_item_flag=item.list_sp_item_flag,
        drt_reim_flag=item.drt_reim_flag,
        updt_time=utc_iso(item.updated_at),
        versions=[
            VersionOut(
                begndate=v.begin,
                enddate=v.end,
                chrgitm_lv=v.chrgitm_lv,
                pric_uplmt_amt=_yuan(v.price_ceiling),
                name=v.name,
            )
            for v in versions or []
        ],
    )
