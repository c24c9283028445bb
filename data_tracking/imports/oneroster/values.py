"""How OneRoster 1.1 values become the portal's: grades, subjects, school levels, subgroup
flags, sex and race. Pure functions, no database."""

import re

from django.utils.text import slugify

from data_tracking.models import GRADES, Student, Subject
from teams.models import School

# Grades are CEDS codes in OneRoster 1.1: IT, PR, PK, TK, KG, 01–13, PS, UG, Other.
GRADE_ALIASES = {"K": "K", "KG": "K", "PK": "PK", "PR": "PK", "TK": "PK", "PS": "PK", "IT": "PK"}
UNGRADED = {"UG", "OTHER", "13"}
GRADE_ORDER = {grade: position - 1 for position, grade in enumerate(GRADES)}  # PK -1, K 0, 1 1

# Subgroup flags are not part of core OneRoster: districts add them as ext_ columns. Names are
# compared without case, underscores or hyphens.
FLAG_COLUMNS = {
    "english_learner": {"extell", "extel", "extlep", "extenglishlearner"},
    "special_education": {"extsped", "extiep", "extspecialeducation", "extswd"},
    "economically_disadvantaged": {
        "extfrl",
        "extfrpl",
        "extecodis",
        "exteconomicallydisadvantaged",
        "extlowincome",
    },
}

SEX = {"male": "M", "m": "M", "female": "F", "f": "F", "other": "X", "x": "X", "unspecified": ""}
# demographics.csv: yes/no columns → the portal's ethnicity.
RACE_COLUMNS = {
    "americanIndianOrAlaskaNative": Student.Ethnicity.AMERICAN_INDIAN,
    "asian": Student.Ethnicity.ASIAN,
    "blackOrAfricanAmerican": Student.Ethnicity.BLACK,
    "nativeHawaiianOrOtherPacificIslander": Student.Ethnicity.PACIFIC_ISLANDER,
    "white": Student.Ethnicity.WHITE,
}

# The earliest keyword in a text decides; at the same place the longest wins ("english learner"
# over "english"). Texts are tried in order: class subjects, course subjects, course title,
# class title.
SUBJECT_KEYWORDS = [
    (Subject.MATH, r"math|algebra|geometry|calculus|statistic|trigonometry|arithmetic"),
    (Subject.READING, r"reading|language arts|\bela\b|english|literacy|literature|phonics"),
    (Subject.LANGUAGE, r"language usage|grammar|writing|composition"),
    (Subject.SCIENCE, r"science|biology|chemistry|physics|earth|environmental|anatomy"),
    (
        Subject.OTHER,
        r"social|history|geography|civics|government|economics|computer|health|music|\barts?\b"
        r"|physical education|world language|foreign language|spanish|french|german|chinese"
        r"|english learner|english language development|\besl\b|\beld\b",
    ),
]
DEMOGRAPHIC_COLUMNS = (*RACE_COLUMNS, "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity")
FLAG_FIELDS = tuple(FLAG_COLUMNS)

SUBJECT_PATTERNS = [(subject, re.compile(pattern)) for subject, pattern in SUBJECT_KEYWORDS]


def normalize_grade(value):
    """One CEDS grade as the portal writes it: "06" → "6", "KG" → "K", "TK" → "PK".

    Returns "" for a blank or an ungraded code (UG, Other, 13); ValueError for anything else.
    """
    code = value.strip().upper()
    if not code or code in UNGRADED:
        return ""
    if code.isascii() and code.isdigit():  # not "٠٥": int() reads other scripts' digits too
        number = int(code)
        if number == 0:
            return "K"
        if number <= 12:
            return str(number)
        if number == 13:
            return ""
    elif code in GRADE_ALIASES:
        return GRADE_ALIASES[code]
    raise ValueError(f"grade “{value}” is not understood (expected a code such as KG, 01 or 12)")


def subject_for(*texts):
    """The portal's subject for the first text that names one, else "other"."""
    for text in texts:
        text = (text or "").lower()
        hits = []
        for subject, pattern in SUBJECT_PATTERNS:
            for match in pattern.finditer(text):
                hits.append((match.start(), -len(match.group()), subject))
        if hits:
            return min(hits)[2]
    return Subject.OTHER


def school_level_for(grades):
    """(level, lowest grade, highest grade) of a new school from the grades seen there."""
    if not grades:
        return School.Level.OTHER, "K", "12"
    lowest = min(grades, key=GRADE_ORDER.__getitem__)
    highest = max(grades, key=GRADE_ORDER.__getitem__)
    low, high = GRADE_ORDER[lowest], GRADE_ORDER[highest]
    if high <= 5 or (high == 6 and low <= 4):
        level = School.Level.ELEMENTARY
    elif low >= 9:
        level = School.Level.HIGH
    elif low >= 5 and high <= 8:
        level = School.Level.MIDDLE
    elif low <= 4 and high <= 8:
        level = School.Level.K8
    else:
        level = School.Level.OTHER
    return level, lowest, highest


def unique_slug(name, taken):
    base = slugify(name)[:80] or "school"
    slug, number = base, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = base[: 80 - len(suffix)] + suffix
    taken.add(slug)
    return slug


def flag_field(column):
    """The Student flag field an ``ext_`` column carries ("ext_ELL" → english_learner), or None."""
    key = re.sub(r"[^a-z0-9]", "", column.lower())
    return next((flag for flag, names in FLAG_COLUMNS.items() if key in names), None)


def ethnicity_for(columns):
    """The portal's ethnicity from the demographics columns that say yes: Hispanic first, then
    two or more races (said or implied), then the one race."""
    if "hispanicOrLatinoEthnicity" in columns:
        return Student.Ethnicity.HISPANIC
    races = [RACE_COLUMNS[column] for column in columns if column in RACE_COLUMNS]
    if "demographicRaceTwoOrMoreRaces" in columns or len(races) > 1:
        return Student.Ethnicity.MULTIRACIAL
    return races[0] if races else Student.Ethnicity.UNKNOWN
