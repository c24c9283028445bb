"""Project-wide response headers."""


class NoStoreForSignedInMiddleware:
    """Keep what a signed-in person sees — pages, student CSVs, htmx partials — out of every
    cache, the browser's back-forward and disk caches of a shared tablet included, by sending
    ``Cache-Control: no-store, private``. A view that chose its own Cache-Control keeps it.
    Static files never get here: WhiteNoise answers them earlier in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response
