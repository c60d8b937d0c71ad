"""The people domain under the one name the accounts domain and its tests import (``yibao.people.service``).

The use cases live in persons.py (finding people, access, showing them), enrolment.py, records.py and
relations.py; everything else imports those modules. This module goes once accounts does too.
"""

from __future__ import annotations

from yibao.people.enrolment import enrol_employee, register_resident
from yibao.people.persons import get_person, records_of, require, require_with_records, subject_of
from yibao.people.records import change_status, move_agency
from yibao.people.relations import declare_relation, relation_between

__all__ = [
    "change_status",
    "declare_relation",
    "enrol_employee",
    "get_person",
    "move_agency",
    "records_of",
    "register_resident",
    "relation_between",
    "require",
    "require_with_records",
    "subject_of",
]
