"""People and enrolment: persons, family relations, insurance records and their statuses."""
