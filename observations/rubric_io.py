"""Rubrics as JSON: export, import and new versions.

A rubric is identified by its ``lineage`` (a slug that stays the same across versions). Importing
a lineage that already exists in the same scope creates its next version, and so does
``rubric_new_version``; an existing version is never edited, so observations keep pointing at the
rubric they were rated against.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Max, Prefetch

from .models import Domain, Indicator, RatingLevel, Rubric

FORMAT = "dl-portal-rubric"
FORMAT_VERSION = 1
EXAMPLE_RUBRIC = Path(__file__).resolve().parent / "rubrics" / "example.json"


def example_rubric_data():
    """The example rubric that ships with the portal, as import data."""
    return json.loads(EXAMPLE_RUBRIC.read_text(encoding="utf-8"))


def rubric_in_use(rubric):
    """A rubric that cycles point at is frozen: change it through a new version."""
    return rubric.cycles.exists()


# --- Export ---------------------------------------------------------------------------------------


def rubric_export(*, rubric):
    """The rubric as a JSON-ready dict that ``rubric_import`` reads back."""
    rubric = Rubric.objects.prefetch_related(
        "levels",
        Prefetch("domains", queryset=Domain.objects.prefetch_related("indicators")),
    ).get(pk=rubric.pk)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lineage": rubric.lineage,
        "name": rubric.name,
        "description": rubric.description,
        "levels": [
            {"value": level.value, "label": level.label, "descriptor": level.descriptor}
            for level in rubric.levels.all()
        ],
        "domains": [
            {
                "name": domain.name,
                "indicators": [
                    {
                        "code": indicator.code,
                        "name": indicator.name,
                        "description": indicator.description,
                    }
                    for indicator in domain.indicators.all()
                ],
            }
            for domain in rubric.domains.all()
        ],
    }


# --- Validation -----------------------------------------------------------------------------------


def _field_max_length(model, name):
    return model._meta.get_field(name).max_length


class _Checker:
    """Collects every problem in the data, each prefixed with where it is (``domains[2]``)."""

    def __init__(self):
        self.errors = []

    def error(self, where, message):
        self.errors.append(f"{where}: {message}" if where else message)

    def text(self, obj, key, where, *, required=True, max_length=None):
        """The string at ``obj[key]``, stripped; "" when optional and absent."""
        if key not in obj or obj[key] is None:
            if required:
                self.error(where, f'"{key}" is missing')
            return ""
        value = obj[key]
        if not isinstance(value, str):
            self.error(where, f'"{key}" must be text, not {type(value).__name__}')
            return ""
        value = value.strip()
        if required and not value:
            self.error(where, f'"{key}" is empty')
        elif max_length and len(value) > max_length:
            self.error(where, f'"{key}" is {len(value)} characters long; the limit is {max_length}')
        return value

    def items(self, obj, key, where):
        """The non-empty list at ``obj[key]``, or [] after recording why not."""
        if key not in obj:
            self.error(where, f'"{key}" is missing')
            return []
        value = obj[key]
        if not isinstance(value, list):
            self.error(where, f'"{key}" must be a list')
            return []
        if not value:
            self.error(where, f'"{key}" is empty')
        return value

    def mapping(self, value, where):
        if not isinstance(value, dict):
            self.error(where, f"must be an object, not {type(value).__name__}")
            return False
        return True


def rubric_validate(data):
    """Check ``data`` against the format and return it cleaned (strings stripped, optional
    fields filled in). Raises one ValidationError listing every problem found."""
    check = _Checker()
    if not isinstance(data, dict):
        raise ValidationError("A rubric file must hold one JSON object, not a list or a value.")

    if "format" not in data:
        check.error("", f'"format" is missing (a rubric file says "format": "{FORMAT}")')
    elif data["format"] != FORMAT:
        check.error(
            "", f'"format" must be "{FORMAT}", not {json.dumps(data["format"], default=str)}'
        )
    version = data.get("format_version")
    if "format_version" not in data:
        check.error("", '"format_version" is missing')
    elif version != FORMAT_VERSION or isinstance(version, bool):
        check.error(
            "",
            f'"format_version" {json.dumps(version, default=str)} is not supported '
            f"(this portal reads version {FORMAT_VERSION})",
        )
    lineage = check.text(data, "lineage", "", max_length=_field_max_length(Rubric, "lineage"))
    if lineage:
        try:
            validate_slug(lineage)
        except ValidationError:
            check.error("", '"lineage" may contain only letters, numbers, hyphens and underscores')
    cleaned = {
        "lineage": lineage,
        "name": check.text(data, "name", "", max_length=_field_max_length(Rubric, "name")),
        "description": check.text(data, "description", "", required=False),
        "levels": [],
        "domains": [],
    }

    values = set()
    for i, level in enumerate(check.items(data, "levels", "")):
        where = f"levels[{i}]"
        if not check.mapping(level, where):
            continue
        value = level.get("value")
        if value is None:
            check.error(where, '"value" is missing')
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            check.error(where, f'"value" must be a whole number of 0 or more, not {value!r}')
        elif value in values:
            check.error(where, f'"value" {value} is used by another level')
        else:
            values.add(value)
        cleaned["levels"].append(
            {
                "value": value,
                "label": check.text(
                    level, "label", where, max_length=_field_max_length(RatingLevel, "label")
                ),
                "descriptor": check.text(
                    level,
                    "descriptor",
                    where,
                    required=False,
                    max_length=_field_max_length(RatingLevel, "descriptor"),
                ),
            }
        )
    if len(cleaned["levels"]) == 1:
        check.error("", '"levels" needs at least two rating levels')

    codes = set()
    for i, domain in enumerate(check.items(data, "domains", "")):
        where = f"domains[{i}]"
        if not check.mapping(domain, where):
            continue
        cleaned_domain = {
            "name": check.text(domain, "name", where, max_length=_field_max_length(Domain, "name")),
            "indicators": [],
        }
        for j, indicator in enumerate(check.items(domain, "indicators", where)):
            where_indicator = f"{where}.indicators[{j}]"
            if not check.mapping(indicator, where_indicator):
                continue
            code = check.text(
                indicator, "code", where_indicator, max_length=_field_max_length(Indicator, "code")
            )
            if code and code.upper() in codes:
                check.error(where_indicator, f'"code" {code} is used by another indicator')
            codes.add(code.upper())
            cleaned_domain["indicators"].append(
                {
                    "code": code,
                    "name": check.text(
                        indicator,
                        "name",
                        where_indicator,
                        max_length=_field_max_length(Indicator, "name"),
                    ),
                    "description": check.text(
                        indicator, "description", where_indicator, required=False
                    ),
                }
            )
        cleaned["domains"].append(cleaned_domain)

    if check.errors:
        raise ValidationError(check.errors)
    return cleaned


# --- Writes ---------------------------------------------------------------------------------------


def _scope_label(rubric):
    return str(rubric.school or rubric.district)


def _create_version(*, data, lineage, district, school):
    """Write ``data`` (already validated) as the newest, current version of ``lineage``."""
    versions = Rubric.objects.select_for_update().filter(lineage=lineage)
    latest = versions.order_by("-version").first()
    if latest is not None and (latest.district_id, latest.school_id) != (
        getattr(district, "pk", None),
        getattr(school, "pk", None),
    ):
        raise ValidationError(
            f"The lineage “{lineage}” already belongs to a rubric of {_scope_label(latest)}. "
            "Import it under another lineage to give this scope its own copy."
        )
    number = (versions.aggregate(highest=Max("version"))["highest"] or 0) + 1
    # One current version per lineage (a database constraint): retire the old one first.
    versions.filter(is_current=True).update(is_current=False)
    rubric = Rubric.objects.create(
        district=district,
        school=school,
        lineage=lineage,
        version=number,
        name=data["name"],
        description=data["description"],
        is_current=True,
    )
    RatingLevel.objects.bulk_create(RatingLevel(rubric=rubric, **level) for level in data["levels"])
    for order, domain_data in enumerate(data["domains"]):
        domain = Domain.objects.create(rubric=rubric, name=domain_data["name"], order=order)
        Indicator.objects.bulk_create(
            Indicator(domain=domain, order=position, **indicator)
            for position, indicator in enumerate(domain_data["indicators"])
        )
    return rubric


@transaction.atomic
def rubric_import(*, data, district=None, school=None, lineage=None):
    """Create a rubric from ``data`` for one district or one school. If the lineage already
    exists there, the import becomes its next version. ``lineage`` overrides the file's."""
    if (district is None) == (school is None):
        raise ValidationError("Import a rubric for one district or one school.")
    cleaned = rubric_validate(data)
    if lineage is not None:
        try:
            validate_slug(lineage)
        except ValidationError as exc:
            raise ValidationError(
                f"The lineage “{lineage}” may contain only letters, numbers, hyphens and "
                "underscores."
            ) from exc
    return _create_version(
        data=cleaned, lineage=lineage or cleaned["lineage"], district=district, school=school
    )


@transaction.atomic
def rubric_new_version(*, rubric):
    """Copy ``rubric`` (levels, domains, indicators) into the lineage's next version and make
    that current. The copy is what an administrator edits; the original stays as it was."""
    # Copied as it is, not validated: a rubric still being drafted in the admin may be incomplete.
    return _create_version(
        data=rubric_export(rubric=rubric),
        lineage=rubric.lineage,
        district=rubric.district,
        school=rubric.school,
    )
