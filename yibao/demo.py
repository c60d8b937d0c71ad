"""A deterministic demo population, so that a new user of ``make run`` finds something to look at.

Families across several prefectures: employees and residents, grandparents, students of a Kunming
university, a newborn, a flexible worker; some have paid the 2023 resident premium (for themselves
or through a relative), some have not. Names and ID numbers are fictional (valid checksums), and so is
the demo medical catalogue (``yibao/catalogue/data/``) the seed loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from yibao.catalogue import service as catalogue
from yibao.catalogue.schemas import ImportReport
from yibao.core import clock
from yibao.core.ids import make_id_number
from yibao.core.meta import get_meta, set_meta
from yibao.people import enrolment, records
from yibao.people.models import Relation
from yibao.people.relations import declare_relation
from yibao.premiums import payments
from yibao.premiums.contributions import contribution_year

SEEDED = "demo_seeded"
# A fictional medical catalogue, labelled as demo data in the file and in the README beside it.
DEMO_CATALOGUE = Path(__file__).resolve().parent / "catalogue" / "data" / "demo_catalogue.csv"


@dataclass(frozen=True, slots=True)
class Member:
    """One person of a demo family."""

    key: str
    name: str
    born: date
    sex: str
    role: str  # employee | flexible | resident | student | newborn


# (region of the family's household register, pooling region, members, relations to the first member)
FAMILIES: list[tuple[str, str, list[Member], dict[str, Relation]]] = [
    (
        "530102",
        "530100",
        [
            Member("zhang_wei", "张伟", date(1978, 4, 12), "M", "employee"),
            Member("li_na", "李娜", date(1980, 9, 3), "F", "resident"),
            Member("zhang_xin", "张欣", date(2004, 6, 18), "F", "student"),
            Member("zhang_lao", "张建国", date(1950, 1, 20), "M", "resident"),
        ],
        {"li_na": Relation.SPOUSE, "zhang_xin": Relation.CHILD, "zhang_lao": Relation.PARENT},
    ),
    (
        "530302",
        "530300",
        [
            Member("wang_fang", "王芳", date(1990, 11, 2), "F", "resident"),
            Member("wang_baby", "王小宝", date(2022, 8, 1), "M", "newborn"),
            Member("zhao_lei", "赵磊", date(1988, 3, 15), "M", "flexible"),
        ],
        {"wang_baby": Relation.CHILD, "zhao_lei": Relation.SPOUSE},
    ),
    (
        "532901",
        "532900",
        [
            Member("yang_min", "杨敏", date(1966, 7, 7), "F", "employee"),
            Member("yang_nainai", "段秀英", date(1940, 2, 28), "F", "resident"),
            Member("yang_sun", "杨小川", date(2012, 12, 12), "M", "resident"),
        ],
        {"yang_nainai": Relation.PARENT, "yang_sun": Relation.GRANDCHILD_PATERNAL},
    ),
    (
        "532501",
        "532500",
        [
            Member("chen_gang", "陈刚", date(1972, 5, 30), "M", "resident"),
            Member("chen_mei", "陈梅", date(1975, 10, 10), "F", "resident"),
        ],
        {"chen_mei": Relation.SPOUSE},
    ),
]

# Who has paid the 2023 premium, and who paid it (None: the insured themself).
PAID_2023: dict[str, str | None] = {"li_na": None, "wang_fang": None, "yang_nainai": "yang_min"}
# Monthly contributions credited to employees' personal accounts (fictional amounts, fen).
CREDITS: dict[str, int] = {"zhang_wei": 25_000, "yang_min": 32_000, "zhao_lei": 12_000}
# 张伟 binds his father's use of his account and pays the father's 2023 premium from it (seed 000's flow).
ACCOUNT_PAYS_FOR = ("zhang_wei", "zhang_lao")


# Demo logins (fictional, for trying the portal and the API; never for a real deployment).
DEMO_PASSWORD = "Demo2023yb"
DEMO_STAFF = (
    ("demo.admin", "演示管理员", "admin", "530000"),
    ("km.clerk", "昆明经办员", "clerk", "530100"),
    ("km.appraiser", "昆明审核员", "appraiser", "530100"),
    ("yn.finance", "省级财务", "finance", "530000"),
    ("yn.auditor", "省级稽核", "auditor", "530000"),
)
DEMO_INSTITUTION = ("H53010000001", "昆明市示例定点医院", "530100")
# Designated institutions (fictional) for trying the national interface: (code, name, kind, level, region).
# The first is DEMO_INSTITUTION, whose login also holds the API key printed by the seed.
DEMO_INSTITUTIONS: tuple[tuple[str, str, str, int | None, str], ...] = (
    ("H53010000001", "昆明市示例定点医院", "hospital", 3, "530100"),
    ("H53010000002", "昆明市示例第二人民医院", "hospital", 2, "530100"),
    ("H53010000003", "昆明市示例乡镇卫生院", "hospital", 1, "530100"),
    ("C53010000001", "昆明市示例社区卫生服务中心", "community_health_center", None, "530100"),
    ("P53010000001", "昆明市示例大药房", "pharmacy", None, "530100"),
    ("H53290000001", "大理州示例人民医院", "hospital", 3, "532900"),
)
DEMO_DESIGNATED_FROM = date(2015, 1, 1)
# A social-security card number on one demo person's record, for 1101 with mdtrt_cert_type 03 (fictional).
DEMO_CARD = ("zhang_wei", "K53010000001")


def seed_logins(session: Session, ids: dict[str, str]) -> str:
    """Staff logins, a password for every demo person, and an institution; returns the institution's API key."""
    from yibao.identity import logins

    for username, name, role, region in DEMO_STAFF:
        logins.create_staff(session, username=username, name=name, role=role, region=region, password=DEMO_PASSWORD)
    for id_number in ids.values():
        logins.set_person_password(session, id_number=id_number, new_password=DEMO_PASSWORD)
    code, name, region = DEMO_INSTITUTION
    return logins.create_client(session, kind="institution", code=code, name=name, region=region).api_key


def seed_catalogue(session: Session) -> ImportReport:
    """Load the demo catalogue; loading it again changes nothing (an unchanged file is a no-op)."""
    return catalogue.import_file(session, DEMO_CATALOGUE)


def seed(session: Session) -> dict[str, str]:
    """Create the demo population once; returns name -> ID number (empty when already seeded).

    The demo catalogue is loaded every time, so that a database seeded before it existed gets it too.
    """
    session.info["demo_catalogue"] = seed_catalogue(session)
    if SEEDED in get_meta(session):
        return {}
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    seq = 0
    for household, region, members, relations in FAMILIES:
        for m in members:
            seq += 1
            ids[m.key] = make_id_number(household, m.born, seq, m.sex)
            names[m.key] = m.name
            on = date(2022, 9, 1)
            if m.role == "employee":
                enrolment.enrol_employee(
                    session, id_number=ids[m.key], name=m.name, region=region, on=on, employer="云南示例有限公司"
                )
            elif m.role == "flexible":
                enrolment.enrol_employee(
                    session, id_number=ids[m.key], name=m.name, region=region, on=on, employer=None, flexible=True
                )
            elif m.role == "student":
                enrolment.register_student(
                    session, id_number=ids[m.key], name=m.name, school="云南大学", commitment_accepted=True, on=on
                )
            elif m.role == "newborn":
                guardian = ids[members[0].key]
                enrolment.register_newborn(
                    session,
                    id_number=ids[m.key],
                    name=m.name,
                    guardian_id_number=guardian,
                    region=region,
                    on=date(2022, 9, 20),
                )
            else:
                enrolment.register_resident(session, id_number=ids[m.key], name=m.name, region=region, on=on)
        head = members[0].key
        for key, rel in relations.items():
            declare_relation(session, id_number=ids[head], relative_id_number=ids[key], relation=rel)
    for key, payer in PAID_2023.items():
        region = next(r for _, r, ms, _ in FAMILIES if any(m.key == key for m in ms))
        req = payments.PaymentRequest(
            insured_id_number=ids[key],
            insured_name=names[key],
            year=2023,
            amount=contribution_year(2023).amount,
            channel="tax_bureau_app" if payer else "banshitong_app",
            region=region,
            idempotency_key=f"demo-2023-{key}",
            payer_id_number=ids[payer] if payer else None,
            payer_name=names[payer] if payer else None,
        )
        payments.pay_premium(session, req, now=datetime(2022, 10, 15, 2, 0, tzinfo=UTC))
    _seed_accounts(session, ids, names)
    session.info["demo_institution_key"] = seed_logins(session, ids)
    key, card = DEMO_CARD
    records.record_card(session, id_number=ids[key], card_no=card)
    set_meta(session, SEEDED, clock.now().isoformat())
    return ids


def _seed_accounts(session: Session, ids: dict[str, str], names: dict[str, str]) -> None:
    from yibao.accounts import balances, payments, sharing
    from yibao.accounts.models import Channel

    for key, monthly in CREDITS.items():
        balances.open_account(session, id_number=ids[key])
        for month in ("2022-07", "2022-08", "2022-09"):
            payments.credit_contribution(
                session,
                id_number=ids[key],
                amount=monthly,
                period=month,
                source="tax_bureau",
                key=f"demo-{key}-{month}",
            )
    holder, relative = ACCOUNT_PAYS_FOR
    sharing.bind(
        session,
        holder_id_number=ids[holder],
        relative_id_number=ids[relative],
        relation=Relation.PARENT,
        commitment_signed=True,
        channel=Channel.YUNNAN_YIBAO_MINIAPP,
    )
    payments.pay_relative_premium(
        session,
        holder_id_number=ids[holder],
        relative_id_number=ids[relative],
        relative_name=names[relative],
        year=2023,
        key=f"demo-2023-{relative}",
        now=datetime(2022, 10, 16, 2, 0, tzinfo=UTC),
    )
    payments.pay(
        session,
        payments.Payment(ids["yang_min"], 8_650, "designated_pharmacy", "大理市某定点药店"),
        source="pharmacy",
        key="demo-yang-min-pharmacy",
    )


@dataclass(frozen=True, slots=True)
class InstitutionCredentials:
    """A demo institution's code, name, app account and secret (for the national interface)."""

    code: str
    name: str
    region: str
    paasid: str
    secret: str


def seed_institutions(session: Session) -> list[InstitutionCredentials]:
    """Register the demo institutions that are missing; every demo institution's credentials (secrets re-read)."""
    from yibao.institutions import secrets as sealed
    from yibao.institutions import service as institutions
    from yibao.institutions.models import Institution

    out = []
    for code, name, kind, level, region in DEMO_INSTITUTIONS:
        row = session.scalar(select(Institution).where(Institution.code == code))
        if row is None:
            row, secret = institutions.add(
                session,
                code=code,
                name=name,
                kind=kind,
                level=level,
                region=region,
                designated_from=DEMO_DESIGNATED_FROM,
            )
        else:
            secret = sealed.unseal(row.secret_sealed, row.code)
        out.append(InstitutionCredentials(row.code, row.name, row.region, row.paasid, secret))
    return out
