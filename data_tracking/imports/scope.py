"""What one import may change: the schools its uploader manages, and never the uploader.

A principal's import changes their own schools' rows only: a row about another school is refused
with a reason, a student is never moved from one school to another, and the uploader's own
account and positions are never touched. A district-wide import (an administrator's upload, or
the management commands run on the server) may change every school of the district, but it too
leaves the uploader's own positions alone. ``data_tracking.permissions.import_scope`` decides
which scope a person's upload gets.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportScope:
    """``school_ids`` None means every school of the district; ``uploader_id`` is the user whose
    account and positions the import must leave alone (None for the command line)."""

    school_ids: frozenset | None = None
    uploader_id: int | None = None

    @property
    def district_wide(self):
        return self.school_ids is None

    def allows(self, school_id):
        return self.district_wide or school_id in self.school_ids

    def is_uploader(self, user):
        return user is not None and self.uploader_id is not None and user.pk == self.uploader_id


DISTRICT_WIDE = ImportScope()

# The reasons a row is refused, shared by every importer so a person reads the same words.
NEW_SCHOOL = (
    "“{name}” is not a school of the district yet: only a district administrator's import adds "
    "a school"
)
OTHER_SCHOOL = (
    "{school} is not a school you manage: only a district administrator's import changes its "
    "rows (to import your own school's rows from a district-wide file, choose “skip bad rows”)"
)
STUDENT_MOVE = (
    "student {local_id} is at {current}; moving a student to another school ({new}) needs a "
    "district administrator's import"
)
STUDENT_ELSEWHERE = "student {local_id} is at {school}, a school you do not manage"
UPLOADER = (
    "this is your own account ({username}): an import never creates, changes or ends the "
    "positions of the person who uploads it"
)
