"""Commercial critical-illness insurance from the account on SQLite and PostgreSQL (seed 003)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.accounts.factories import NOW, balance, create_employee, create_relative, fund, pack_with
from yibao.accounts import ledger
from yibao.accounts.access import UseRefused
from yibao.accounts.insurance import mature_insurance, pay_insurance_year, purchase_insurance
from yibao.accounts.schemas import InsurancePolicyOut
from yibao.core.errors import Conflict, ValidationFailed
from yibao.people import relations
from yibao.people.models import Relation


def _buy(session: Session, holder: str, insured: str, product: str, shares: int, **kw: object) -> InsurancePolicyOut:
    return purchase_insurance(
        session,
        holder_id_number=holder,
        insured_id_number=insured,
        product=product,
        shares=shares,
        key=str(kw.pop("key", f"{insured}-{product}-{shares}")),
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )


def test_commercial_insurance_only_above_1000(session: Session) -> None:
    holder = create_employee(session, funded=250_000)  # 2,500.00
    child = create_relative(session, name="孩子", born=date(2015, 1, 1), sex="M")
    relations.declare_relation(session, id_number=holder, relative_id_number=child, relation=Relation.CHILD)
    with pytest.raises(UseRefused) as err:
        _buy(session, holder, child, "jirui_ankang", 1)
    assert err.value.code == "accounts.wrong_product"
    # 2,500.00 - 1,800.00 = 700.00 < 1,000.00: refused
    with pytest.raises(ledger.InsufficientBalance):
        _buy(session, holder, child, "baobao_ankang", 1)
    # 3 x 500.00 = 1,500.00 leaves exactly 1,000.00: allowed
    policy = _buy(session, holder, holder, "jirui_ankang", 3)
    assert (policy.product, policy.shares, policy.yearly_premium, policy.maturity_year) == (
        "jirui_ankang",
        3,
        "1500.00",
        2032,
    )
    assert balance(session, holder) == "1000.00"
    with pytest.raises(ledger.InsufficientBalance):
        pay_insurance_year(session, policy_id=policy.policy_id, now=NOW.replace(year=2023))
    fund(session, holder, 150_000, period="2022-08")
    pay_insurance_year(session, policy_id=policy.policy_id, now=NOW.replace(year=2023))
    with pytest.raises(Conflict) as err:
        mature_insurance(session, policy_id=policy.policy_id, now=NOW.replace(year=2024))
    assert err.value.code == "accounts.not_mature"
    mature_insurance(session, policy_id=policy.policy_id, now=NOW.replace(year=2032))
    # premiums 3,000.00 x 110% = 3,300.00 back: 1,000.00 + 3,300.00
    assert balance(session, holder) == "4300.00"
    with pytest.raises(Conflict) as err:
        mature_insurance(session, policy_id=policy.policy_id, now=NOW.replace(year=2033))
    assert err.value.code == "accounts.policy_matured"
    assert balance(session, holder) == "4300.00"


def test_a_yearly_premium_is_paid_once_a_year(session: Session) -> None:
    holder = create_employee(session, funded=500_000)
    policy = _buy(session, holder, holder, "jirui_ankang", 2)
    with pytest.raises(Conflict) as err:  # the year of purchase is paid at purchase
        pay_insurance_year(session, policy_id=policy.policy_id, now=NOW)
    assert err.value.code == "accounts.premium_paid"
    pay_insurance_year(session, policy_id=policy.policy_id, now=NOW.replace(year=2023))
    with pytest.raises(Conflict) as err:
        pay_insurance_year(session, policy_id=policy.policy_id, now=NOW.replace(year=2023, month=12))
    assert err.value.code == "accounts.premium_paid"
    assert balance(session, holder) == "3000.00"  # 5,000.00 - 2 x 1,000.00
    # A year skipped is paid later, one year at a time.
    pay_insurance_year(session, policy_id=policy.policy_id, now=NOW.replace(year=2026))
    pay_insurance_year(session, policy_id=policy.policy_id, now=NOW.replace(year=2026))
    assert balance(session, holder) == "1000.00"


def test_a_retried_purchase_charges_once(session: Session) -> None:
    holder = create_employee(session, funded=300_000)
    first = _buy(session, holder, holder, "jirui_ankang", 2, key="same")
    assert _buy(session, holder, holder, "jirui_ankang", 2, key="same") == first
    assert balance(session, holder) == "2000.00"
    with pytest.raises(Conflict) as err:
        _buy(session, holder, holder, "jirui_ankang", 1, key="same")
    assert err.value.code == "idempotency.key_reused"


def test_insurance_only_for_direct_relatives(session: Session) -> None:
    holder = create_employee(session, funded=500_000)
    brother = create_relative(session, name="兄弟", born=date(1980, 1, 1), sex="M")
    relations.declare_relation(session, id_number=holder, relative_id_number=brother, relation=Relation.SIBLING)
    with pytest.raises(UseRefused) as err:
        _buy(session, holder, brother, "jirui_ankang", 1)
    assert err.value.code == "accounts.not_direct_relative"
    assert balance(session, holder) == "5000.00"


def test_shares_and_products_from_the_pack(session: Session) -> None:
    holder = create_employee(session, funded=500_000)
    with pytest.raises(ValidationFailed) as err:
        _buy(session, holder, holder, "jirui_ankang", 0)
    assert err.value.field == "shares"
    with pytest.raises(ValidationFailed) as err:
        _buy(session, holder, holder, "anxin", 1)
    assert err.value.field == "product"
    with pytest.raises(ValidationFailed) as err:
        _buy(session, holder, holder, "jirui_ankang", 3, pack=pack_with("employee.account.insurance.max_shares", 2))
    assert err.value.field == "shares"
    assert _buy(session, holder, holder, "jirui_ankang", 3).shares == 3
