"""CSV files written for people to open in a spreadsheet, safe from formula injection.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some, after a
leading tab or carriage return) as a formula, so a student named ``=HYPERLINK(…)`` would become
a live link in a leader's export. Every CSV the portal serves goes through ``csv_writer``, which
prefixes such text with a single quote (OWASP's advice); numbers are written as numbers.

It lives in the project package, not in an app, because it knows nothing of the domain: any app
can import it without reaching up into another one. It is for downloads only; a ``COPY`` buffer
or an import must keep values exactly as they are.
"""

import csv
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a spreadsheet will not run: numbers and None as they are, anything else as
    text, prefixed with ``'`` when it begins like a formula."""
    if value is None or isinstance(value, int | float | Decimal):  # bool is an int too
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class SafeCsvWriter:
    """``csv.writer`` whose every row passes through ``safe_cell``."""

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(file, **options):
    """A writer like ``csv.writer(file, **options)`` for a file a person will open."""
    return SafeCsvWriter(file, **options)
