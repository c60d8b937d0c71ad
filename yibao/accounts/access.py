"""How ``bound`` resolves for persons: a relative bound to the caller's account, or the holder bound to the caller.

An active sharing binding (共济绑定) lets the relative use the holder's account, so each of the two may
act on the other's data that the rules allow with ``bound``. Loaded when the application assembles
(:mod:`yibao.assembly`).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from yibao.accounts.models import SharingBinding
from yibao.core import auth
from yibao.core.auth import Principal, Scope, Subject


def bound_by_sharing(session: Session, caller: Principal, subject: Subject) -> bool:
    """An active sharing binding joins the caller and the subject (either as holder)."""
    a, b = caller.person_id, subject.person_id
    if a is None or b is None:
        return False
    found = session.scalar(
        select(SharingBinding.id)
        .where(
            SharingBinding.status == "active",
            or_(
                and_(SharingBinding.holder_id == a, SharingBinding.relative_id == b),
                and_(SharingBinding.holder_id == b, SharingBinding.relative_id == a),
            ),
        )
        .limit(1)
    )
    return found is not None


auth.register_scope_resolver("person", Scope.BOUND, bound_by_sharing)
