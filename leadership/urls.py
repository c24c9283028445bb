from django.urls import path

from .views import map as map_views
from .views import survey as survey_views

app_name = "leadership"

urlpatterns = [
    # ── Leadership self-assessment survey ──
    path("schools/<slug:slug>/leadership-survey/", survey_views.survey_home, name="survey"),
    path(
        "schools/<slug:slug>/leadership-survey/open/",
        survey_views.round_open,
        name="survey_round_open",
    ),
    path(
        "schools/<slug:slug>/leadership-survey/over-time/",
        survey_views.trend,
        name="survey_trend",
    ),
    path(
        "leadership-survey/rounds/<int:pk>/answer/",
        survey_views.answer,
        name="survey_answer",
    ),
    path(
        "leadership-survey/rounds/<int:pk>/results/",
        survey_views.results,
        name="survey_results",
    ),
    path(
        "leadership-survey/rounds/<int:pk>/close/",
        survey_views.round_close,
        name="survey_round_close",
    ),
    # ── Leadership map, district comparison, talent pipeline ──
    path("schools/<slug:slug>/leadership-map/", map_views.school_map, name="school_map"),
    path("schools/<slug:slug>/talent-pipeline/", map_views.talent_pipeline, name="talent_pipeline"),
    path(
        "districts/<slug:slug>/leadership/",
        map_views.district_comparison,
        name="district_comparison",
    ),
]
