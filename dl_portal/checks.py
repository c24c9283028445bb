"""Project-wide checks: what must be set before the portal serves anyone.

A missing SECRET_KEY with DEBUG off is an error of ``check --deploy`` and stops the WSGI and ASGI
applications at import (``require_secret_key``): the servers never start without one. It is not
an error of the ordinary checks, which makemigrations and migrate also run: they sign nothing.
(Anything else that needs the key without it, say runserver with DEBUG off, fails at that point
with Django's "The SECRET_KEY setting must not be empty.")
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = (
    "Set the SECRET_KEY environment variable: it is required when DEBUG is off. "
    "On a development machine set DEBUG=true instead (make run and make test do)."
)


def _has_secret_key():
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        return False


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    if _has_secret_key():
        return []
    return [checks.Error(MISSING_SECRET_KEY, id="dl_portal.E001")]


def require_secret_key():
    """Stop a server process at start, rather than at its first request, without a key."""
    if not _has_secret_key():
        raise ImproperlyConfigured(MISSING_SECRET_KEY)
