"""Catalogue tests start from an empty catalogue: rows other tests committed are deleted in the test's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from yibao.catalogue.models import CatalogueItem


@pytest.fixture
def session(session: Session) -> Session:
    """The shared test session, with the catalogue emptied (rolled back with the rest of the test)."""
    session.execute(delete(CatalogueItem))
    return session
