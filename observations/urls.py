from django.urls import path

from . import views

app_name = "observations"

urlpatterns = [
    path("caseload/", views.my_caseload, name="my_caseload"),
    path("feedback/", views.my_feedback, name="my_feedback"),
    path("coaching/", views.coaching_quality, name="coaching_quality"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notification_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("cycles/new/", views.cycle_start, name="cycle_start"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/observation/", views.observation_log, name="observation_log"),
    path("cycles/<int:pk>/feedback/", views.feedback_write, name="feedback_write"),
    path("cycles/<int:pk>/amend/", views.feedback_amend, name="feedback_amend"),
    path("cycles/<int:pk>/acknowledge/", views.feedback_acknowledge, name="feedback_acknowledge"),
    path("cycles/<int:pk>/reflect/", views.reflection_write, name="reflection_write"),
    path("cycles/<int:pk>/follow-up/", views.follow_up_record, name="follow_up_record"),
    path("cycles/<int:pk>/cancel/", views.cycle_cancel, name="cycle_cancel"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("schools/<slug:slug>/observation-trends/", views.school_trends, name="school_trends"),
    path(
        "districts/<slug:slug>/observation-trends/", views.district_trends, name="district_trends"
    ),
    path("teachers/<int:staff_pk>/cycles/", views.teacher_history, name="teacher_history"),
]
