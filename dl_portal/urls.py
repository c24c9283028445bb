from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from teams import views as team_views

from .views import SignOutView

admin.site.site_header = "DL Portal administration"
admin.site.site_title = "DL Portal admin"

urlpatterns = [
    path("", team_views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("", include("teams.urls")),
    path("", include("observations.urls")),
    path("", include("data_tracking.urls")),
    path("", include("leadership.urls")),
]
