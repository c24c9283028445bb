"""Views of the leadership map, the district comparison and the talent pipeline.

Each page reads through ``leadership.permissions`` (out of scope: 404) and computes its figures
with ``leadership.indicators`` in a fixed number of queries.
"""

from django.shortcuts import render

from leadership import indicators, permissions


def school_map(request, slug):
    school = permissions.get_school_for_map(request.user, slug)
    return render(
        request,
        "leadership/map.html",
        {"school": school, "map": indicators.school_map(school=school)},
    )


def district_comparison(request, slug):
    district = permissions.get_district_for_comparison(request.user, slug)
    schools = district.schools.order_by("name")
    return render(
        request,
        "leadership/district_comparison.html",
        {"district": district, "comparison": indicators.district_comparison(schools=schools)},
    )


def talent_pipeline(request, slug):
    school = permissions.get_school_for_pipeline(request.user, slug)
    return render(
        request,
        "leadership/pipeline.html",
        {"school": school, "pipeline": indicators.talent_pipeline(school=school)},
    )
