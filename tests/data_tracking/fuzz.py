"""Malformed uploads for tests/data_tracking/test_import_hostile.py: small valid files of each
kind, broken by seeded random mutations. ``case(kind, seed)`` rebuilds any case from its seed, so
a failure reproduces on its own:

    from tests.data_tracking import fuzz
    fuzz.case("csv", 1234)      # → Case(kind, seed, steps, upload)
"""

import io
import random
import zipfile
from dataclasses import dataclass

UNDEFINED_CP1252 = b"\x81\x8d\x8f\x90\x9d"
NUMBERS = [
    "-5",
    "-0.01",
    "1e9",
    "1E+2",
    "٢٠٠",  # Arabic-Indic digits: int() and Decimal() read them
    "２００",  # full-width digits
    "²",
    "NaN",
    "Infinity",
    "1_000",
    "99999999999",
    "0x1F",
    "3.14159265358979",
    "+",
    ".",
    "0",
    "100",
    "351",
    "99",
    "101",
]
DATES = [
    "9999-12-31",
    "0001-01-01",
    "1899-12-31",
    "1989-12-31",
    "2026-02-30",
    "13/45/2026",
    "2026-09-15T99:99",
    "٢٠٢٦-٠٩-١٥",
    "31/12/2026",
    "2040-2041",
    "Fall 9999-10000",
    "Spring 1066-1067",
    "",
]

# The valid files each mutation starts from. ``numbers`` and ``dates`` name the columns the
# number and date mutations aim at.
PLAIN_CSV = (
    "student_id,assessment,subject,window,school_year,date,score,performance_level\n"
    "1001,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-15,212,\n"
    "1002,Grade 5 Math Benchmark,math,fall,2026-2027,2026-09-14,198.5,\n"
    "1003,Grade 5 Reading Benchmark,reading,winter,,2027-01-20,40,\n"
    '1001,"Grade 5 Reading Benchmark",reading,winter,2026-27,1/21/2027,41,\n'
)
MAP_FILES = {
    "StudentsBySchool.csv": (
        "TermName,DistrictName,SchoolName,StudentLastName,StudentFirstName,StudentMI,StudentID,"
        "StudentDateOfBirth,StudentEthnicGroup,StudentGender,Grade\n"
        "Fall 2026-2027,Lakeside SD,Maple Elementary,Lopez,Ana,M,2001,3/14/2016,Asian,F,5\n"
        "Fall 2026-2027,Lakeside SD,Birch Elementary,Nguyen,Bao,,2002,2016-07-02,White,M,05\n"
        "Fall 2026-2027,Lakeside SD,Maple Elementary,Okafor,Chidi,,1001,11/30/2020,,,K\n"
    ),
    "AssessmentResults.csv": (
        "TermName,StudentID,SchoolName,MeasurementScale,Discipline,GrowthMeasureYN,TestType,"
        "TestStartDate,TestRITScore,TestStandardError,TestPercentile\n"
        "Fall 2026-2027,2001,Maple Elementary,Mathematics: Math K-12,Mathematics,TRUE,Survey,"
        "9/10/2026,201,3.1,55\n"
        "Fall 2026-2027,2001,Maple Elementary,Reading,Reading,FALSE,Survey,9/11/2026,190,3.4,40\n"
        "Fall 2026-2027,2002,Birch Elementary,Language Usage,Language Usage,Y,Survey,"
        "9/12/2026,205,3.2,60\n"
        "Winter 2026-2027,1001,Maple Elementary,Science,Science,N,Survey,1/13/2027,160,3.5,35\n"
        "Fall 2026-2027,1002,Maple Elementary,Mathematics: Math K-12,,TRUE,Survey,2026-09-14,"
        "150,3.3,20\n"
    ),
}
ONEROSTER_FILES = {
    "manifest.csv": (
        "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\n"
        "file.classes,bulk\nfile.enrollments,bulk\nfile.demographics,bulk\n"
        "file.academicSessions,bulk\n"
    ),
    "orgs.csv": (
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "d1,active,2025-08-01T00:00:00.000Z,Lakeside District,district,LSD,\n"
        "s1,active,2025-08-01T00:00:00.000Z,Maple Elementary,school,101,d1\n"
        "s2,,,Cedar Middle School,school,102,d1\n"
    ),
    "academicSessions.csv": (
        "sourcedId,status,title,type,startDate,endDate,parentSourcedId,schoolYear\n"
        "y1,active,2026-2027,schoolYear,2026-08-15,2027-06-15,,2027\n"
        "t1,active,Fall 2026,term,2026-08-15,2026-12-19,y1,2027\n"
    ),
    "classes.csv": (
        "sourcedId,status,title,grades,courseSourcedId,classCode,schoolSourcedId,termSourcedIds,"
        "subjects\n"
        "k1,active,Math 4 - Tran,04,,M4-1,s1,t1,Math\n"
        'k2,active,"ELA 7, section A",07,,E7-A,s2,t1,\n'
    ),
    "users.csv": (
        "sourcedId,status,enabledUser,orgSourcedIds,role,username,givenName,familyName,identifier,"
        "email,grades,ext_ell\n"
        "t1,active,true,s1,teacher,ttran,Tina,Tran,T-1,tina.tran@example.org,,\n"
        't2,active,true,"s2,d1",teacher,nndiaye,Nia,Ndiaye,T-2,nia@example.org,,\n'
        "st1,active,true,s1,student,sgarcia,Sofia,Garcia,1001,,04,true\n"
        "st2,active,true,s1,student,bkim,Ben,Kim,1004,,KG,false\n"
        "st3,active,true,s2,student,cokafor,Chi,Okafor,1005,,07,\n"
    ),
    "enrollments.csv": (
        "sourcedId,status,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,"
        "endDate\n"
        "e1,active,k1,s1,t1,teacher,true,2026-08-15,2027-06-15\n"
        "e2,active,k1,s1,st1,student,false,2026-08-15,\n"
        "e3,active,k1,s1,st2,student,false,,\n"
        "e4,active,k2,s2,t2,teacher,true,,\n"
        "e5,active,k2,s2,st3,student,false,,\n"
    ),
    "demographics.csv": (
        "sourcedId,birthDate,sex,white,asian,hispanicOrLatinoEthnicity\n"
        "st1,2016-03-04,female,true,false,true\n"
        "st3,2013-01-20,male,false,true,false\n"
    ),
}
NUMBER_COLUMNS = {"score", "TestRITScore", "TestStandardError", "TestPercentile", "Grade", "grades"}
DATE_COLUMNS = {
    "date",
    "school_year",
    "TestStartDate",
    "StudentDateOfBirth",
    "TermName",
    "birthDate",
    "startDate",
    "endDate",
    "beginDate",
}


@dataclass
class Case:
    kind: str  # "csv", "map_cdf" or "oneroster" (ImportBatch.Kind)
    seed: int
    steps: list  # what was done, for the failure message
    upload: object  # (file name, bytes) as uploaded, or {file name: bytes} given to the importer

    def __str__(self):
        return f"{self.kind} seed={self.seed}: {'; '.join(self.steps)}"


def case(kind, seed):
    rng = random.Random(seed)
    steps = []
    if kind == "csv":
        files = {"results.csv": PLAIN_CSV.encode()}
    elif kind == "map_cdf":
        files = {name: text.encode() for name, text in MAP_FILES.items()}
    else:
        files = {name: text.encode() for name, text in ONEROSTER_FILES.items()}

    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        name = rng.choice(sorted(files))
        mutation = rng.choice(FILE_MUTATIONS)
        files[name] = mutation(rng, files[name])
        steps.append(f"{mutation.__name__} {name}")

    if kind == "csv" and rng.random() < 0.8:
        return Case(kind, seed, steps, ("results.csv", files["results.csv"]))
    if kind == "map_cdf" and rng.random() < 0.4:
        steps.append("as a file pair")
        return Case(kind, seed, steps, files)
    folder = rng.choice(["", "export/", "District CDF/2026/"])
    members = [(folder + name, data) for name, data in files.items()]
    if rng.random() < 0.5:
        mutation = rng.choice(MEMBER_MUTATIONS)
        members = mutation(rng, members)
        steps.append(mutation.__name__)
    data = zipped(members)
    if rng.random() < 0.15:
        mutation = rng.choice(ZIP_MUTATIONS)
        data = mutation(rng, data)
        steps.append(mutation.__name__)
    return Case(kind, seed, steps, ("upload.zip", data))


def zipped(members, compression=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


# Mutations of one CSV file: (rng, bytes) → bytes


def _lines(data):
    return data.split(b"\n")


def _replace_field(rng, data, columns, values):
    """A random data row's value in one of ``columns`` (else any column) replaced."""
    lines = _lines(data)
    if len(lines) < 2:
        return data + b"\n" + rng.choice(values).encode()
    header = lines[0].split(b",")
    wanted = [i for i, name in enumerate(header) if name.strip().decode("latin-1") in columns]
    row = rng.randrange(1, len(lines))
    fields = lines[row].split(b",")
    index = rng.choice(wanted or range(len(header)))
    while len(fields) <= index:
        fields.append(b"")
    fields[index] = rng.choice(values).encode()
    lines[row] = b",".join(fields)
    return b"\n".join(lines)


def bad_number(rng, data):
    return _replace_field(rng, data, NUMBER_COLUMNS, NUMBERS)


def bad_date(rng, data):
    return _replace_field(rng, data, DATE_COLUMNS, DATES)


def flip_bytes(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _insert(rng, data, piece):
    at = rng.randrange(len(data) + 1)
    return data[:at] + piece + data[at:]


def undefined_cp1252(rng, data):
    for _ in range(rng.randint(1, 4)):
        data = _insert(rng, data, bytes([rng.choice(UNDEFINED_CP1252)]))
    return data


def nul(rng, data):
    for _ in range(rng.randint(1, 3)):
        data = _insert(rng, data, b"\x00")
    return data


def control_characters(rng, data):
    for _ in range(rng.randint(1, 5)):
        data = _insert(rng, data, bytes([rng.choice([1, 7, 8, 11, 12, 27, 127])]))
    return data


def truncated_mid_quote(rng, data):
    lines = _lines(data)
    row = rng.randrange(len(lines))
    fields = lines[row].split(b",")
    index = rng.randrange(len(fields))
    fields[index] = b'"' + fields[index]
    lines[row] = b",".join(fields)
    data = b"\n".join(lines)
    cut = len(b"\n".join(lines[:row])) + rng.randint(1, 200)
    return data[:cut]


def quote_opened_and_closed_later(rng, data):
    lines = _lines(data)
    for _ in range(2):
        row = rng.randrange(len(lines))
        lines[row] = _insert(rng, lines[row], b'"')
    return b"\n".join(lines)


def huge_field(rng, data):
    size = rng.choice([131_073, 140_000, 300_000])
    piece = b"x" * size
    if rng.random() < 0.5:
        piece = b'"' + piece + b'"'
    lines = _lines(data)
    row = rng.randrange(len(lines))
    fields = lines[row].split(b",")
    fields[rng.randrange(len(fields))] = piece
    lines[row] = b",".join(fields)
    return b"\n".join(lines)


def many_columns(rng, data):
    lines = _lines(data)
    row = rng.randrange(len(lines))
    lines[row] += b"," * rng.choice([100, 5000, 40_000])
    return b"\n".join(lines)


def _header_names(data):
    lines = _lines(data)
    return lines, lines[0].split(b",")


def duplicated_header(rng, data):
    lines, names = _header_names(data)
    names.insert(rng.randrange(len(names) + 1), rng.choice(names))
    lines[0] = b",".join(names)
    return b"\n".join(lines)


def missing_header(rng, data):
    lines, names = _header_names(data)
    if len(names) > 1:
        del names[rng.randrange(len(names))]
    lines[0] = b",".join(names)
    return b"\n".join(lines)


def renamed_header(rng, data):
    lines, names = _header_names(data)
    index = rng.randrange(len(names))
    names[index] = rng.choice([b"", b"x", names[index].upper(), b" " + names[index], b"\xff\xfe"])
    lines[0] = b",".join(names)
    return b"\n".join(lines)


def swapped_columns(rng, data):
    lines, names = _header_names(data)
    if len(names) > 1:
        a, b = rng.sample(range(len(names)), 2)
        names[a], names[b] = names[b], names[a]
    lines[0] = b",".join(names)
    return b"\n".join(lines)


def empty(rng, data):
    return rng.choice([b"", b"\n", b"\r\n\r\n", b"   \n\t\n", b"\xef\xbb\xbf"])


def header_only(rng, data):
    return _lines(data)[0] + rng.choice([b"", b"\n", b"\n\n", b"\n,,,\n"])


def random_binary(rng, data):
    return rng.randbytes(rng.randint(1, 4000))


def reencoded(rng, data):
    text = data.decode("utf-8", "replace") + rng.choice(["", "Núñez,Zoë,Ørsted\n"])
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "cp1252"])
    return text.encode(encoding, "replace")


def line_endings(rng, data):
    return data.replace(b"\n", rng.choice([b"\r", b"\r\n", b"\n\n", b"\r\r\n"]))


def deleted_span(rng, data):
    if not data:
        return data
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 60) :]


def duplicated_rows(rng, data):
    lines = _lines(data)
    for _ in range(rng.randint(1, 3)):
        lines.insert(rng.randrange(1, len(lines) + 1), rng.choice(lines))
    return b"\n".join(lines)


def extra_values(rng, data):
    lines = _lines(data)
    row = rng.randrange(len(lines))
    lines[row] += b"," + rng.choice([b"extra", b'"quoted, extra"', b"", b"1,2,3"])
    return b"\n".join(lines)


def unicode_noise(rng, data):
    noise = chr(rng.choice([0x202E, 0x0301, 0xFFFD, 0x1F600, 0x2028, 0x85, 0xD800]))
    for _ in range(rng.randint(1, 4)):
        data = _insert(rng, data, noise.encode("utf-8", "surrogatepass"))
    return data


FILE_MUTATIONS = [
    bad_number,
    bad_number,
    bad_number,
    bad_date,
    bad_date,
    bad_date,
    flip_bytes,
    undefined_cp1252,
    nul,
    nul,
    control_characters,
    truncated_mid_quote,
    quote_opened_and_closed_later,
    huge_field,
    many_columns,
    duplicated_header,
    missing_header,
    renamed_header,
    swapped_columns,
    empty,
    header_only,
    random_binary,
    reencoded,
    line_endings,
    deleted_span,
    duplicated_rows,
    extra_values,
    unicode_noise,
]


# Mutations of the list of zip members: (rng, [(path, bytes)]) → [(path, bytes)]


def member_dropped(rng, members):
    members = list(members)
    del members[rng.randrange(len(members))]
    return members


def member_twice_in_two_folders(rng, members):
    path, data = rng.choice(members)
    return [*members, ("copy/" + path.rsplit("/", 1)[-1], data)]


def nested_zip(rng, members):
    inner = zipped(members)
    if rng.random() < 0.5:
        return [("inner.zip", inner)]
    return [*members[1:], (members[0][0], inner)]  # a .csv that is really a zip


def extra_files(rng, members):
    return [
        *members,
        ("__MACOSX/._results.csv", b"\x00\x05\x16\x07"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("README.txt", b"read me"),
        ("notes.xlsx", zipped([("x.xml", b"<x/>")])),
    ]


def names_in_other_case(rng, members):
    return [(path.upper() if rng.random() < 0.5 else path.lower(), data) for path, data in members]


def too_many_files(rng, members):
    return members + [(f"filler/{index}.txt", b"") for index in range(1001)]


def small_bomb(rng, members):
    path, _data = rng.choice(members)
    kept = [(p, d) for p, d in members if p != path]
    return [*kept, (path, b"0" * rng.choice([2, 3]) * 1024**2)]


MEMBER_MUTATIONS = [
    member_dropped,
    member_twice_in_two_folders,
    nested_zip,
    extra_files,
    names_in_other_case,
    too_many_files,
    small_bomb,
]


# Mutations of the zip's own bytes: (rng, bytes) → bytes


def zip_truncated(rng, data):
    return data[: rng.randrange(len(data))]


def zip_bytes_flipped(rng, data):
    return flip_bytes(rng, data)


def zip_member_encrypted(rng, data):
    """Set the "encrypted" flag of the first member in its central directory entry."""
    at = data.find(b"PK\x01\x02")
    data = bytearray(data)
    if at >= 0:
        data[at + 8] |= 0x01
    return bytes(data)


def zip_unknown_compression(rng, data):
    """Mark the first member as compressed with method 99 (AES), in both of its headers."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        if at >= 0:
            data[at + offset : at + offset + 2] = (99).to_bytes(2, "little")
    return bytes(data)


def zip_stored_as_bzip2(rng, data):
    data = bytearray(data)
    at = data.find(b"PK\x01\x02")
    if at >= 0:
        data[at + 10 : at + 12] = (12).to_bytes(2, "little")
    return bytes(data)


ZIP_MUTATIONS = [
    zip_truncated,
    zip_bytes_flipped,
    zip_member_encrypted,
    zip_unknown_compression,
    zip_stored_as_bzip2,
]
