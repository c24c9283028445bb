from django.urls import path

from . import meeting_views, views

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
    # Meetings
    path("teams/<int:pk>/meetings/new/", meeting_views.meeting_schedule, name="meeting_schedule"),
    path("meetings/<int:pk>/", meeting_views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", meeting_views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/start/", meeting_views.meeting_start, name="meeting_start"),
    path("meetings/<int:pk>/finish/", meeting_views.meeting_finish, name="meeting_finish"),
    path("meetings/<int:pk>/cancel/", meeting_views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/agenda/", meeting_views.agenda_item_add, name="agenda_item_add"),
    path(
        "meetings/<int:pk>/attendance/",
        meeting_views.meeting_attendance,
        name="meeting_attendance",
    ),
    path("meetings/<int:pk>/decisions/", meeting_views.decision_add, name="decision_add"),
    path(
        "meetings/<int:pk>/action-items/",
        meeting_views.meeting_action_item_add,
        name="meeting_action_item_add",
    ),
    path("meetings/<int:pk>/notes/", meeting_views.meeting_notes, name="meeting_notes"),
    path("agenda/<int:pk>/record/", meeting_views.agenda_item_record, name="agenda_item_record"),
    path("agenda/<int:pk>/move/", meeting_views.agenda_item_move, name="agenda_item_move"),
    path("agenda/<int:pk>/remove/", meeting_views.agenda_item_remove, name="agenda_item_remove"),
]
