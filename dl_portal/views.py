from django.contrib.auth import views as auth_views


class SignOutView(auth_views.LogoutView):
    """Django's sign-out, which also asks the browser to forget this site's storage: feedback
    drafts kept in localStorage must not outlive the session on a shared classroom tablet.
    (The sign-out form clears them too, for browsers without Clear-Site-Data.)"""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"storage"'
        return response
