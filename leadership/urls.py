from django.urls import path  # noqa: F401  (filled in by the survey and map pages)

from .views import map as map_views  # noqa: F401
from .views import survey as survey_views  # noqa: F401

app_name = "leadership"

urlpatterns = [
    # ── Leadership self-assessment survey ──
    # ── Leadership map, district comparison, talent pipeline ──
]
