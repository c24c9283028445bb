from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project itself, as an app only to register its system checks (no models)."""

    name = "dl_portal"
    verbose_name = "DL Portal"

    def ready(self):
        from . import checks  # noqa: F401 - registers the checks
