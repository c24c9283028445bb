"""Reading a rendered page or CSV in tests: headline numbers, a table's rows, a download."""

import csv
import html
import io
import re


def text(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def metrics_shown(response):
    """The headline numbers: {label: value}."""
    page = response.content.decode()
    return {
        text(label): text(value)
        for label, value in re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, re.S)
    }


def table_rows(response, caption):
    """The body rows (lists of cell texts) of the table whose caption contains ``caption``."""
    for table in re.findall(r"<table.*?</table>", response.content.decode(), re.S):
        if caption in table:
            body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
            return [
                [text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
                for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
            ]
    raise AssertionError(f"No table captioned “{caption}” on the page.")


def csv_rows(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))
