from django.urls import path

from . import views

app_name = "data_tracking"

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/template.csv", views.results_template, name="results_template"),
    path("schools/<slug:slug>/dashboard/", views.school_dashboard, name="school_dashboard"),
    path(
        "schools/<slug:slug>/dashboard/grades/<str:grade>/",
        views.grade_dashboard,
        name="grade_dashboard",
    ),
    path("schools/<slug:slug>/access-log/", views.access_log, name="access_log"),
    path("reviews/", views.review_list, name="review_list"),
    path("snapshots/<int:pk>/review/", views.snapshot_review, name="snapshot_review"),
    path("sections/<int:pk>/dashboard/", views.section_dashboard, name="section_dashboard"),
    path("my-classes/", views.my_classes, name="my_classes"),
    path("dashboards/how-figures-are-worked-out/", views.metrics_help, name="metrics_help"),
]
