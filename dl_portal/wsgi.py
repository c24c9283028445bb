import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dl_portal.settings")

application = get_wsgi_application()

from dl_portal.checks import require_secret_key  # noqa: E402 - needs the settings loaded

require_secret_key()
