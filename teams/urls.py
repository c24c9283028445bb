from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("schools/<slug:slug>/", views.school_detail, name="school_detail"),
    path("schools/<slug:slug>/staff/", views.staff_list, name="staff_list"),
    path("schools/<slug:slug>/teams/", views.team_list, name="team_list"),
    path("schools/<slug:slug>/teams/new/", views.team_create, name="team_create"),
    path("schools/<slug:slug>/caseloads/", views.caseload_list, name="caseload_list"),
    path("schools/<slug:slug>/caseloads/new/", views.caseload_assign, name="caseload_assign"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/roles/new/", views.membership_assign, name="membership_assign"),
    path("roles/<int:pk>/end/", views.membership_end, name="membership_end"),
    path("caseloads/<int:pk>/end/", views.caseload_end, name="caseload_end"),
    path("action-items/<int:pk>/done/", views.action_item_toggle, name="action_item_toggle"),
]
