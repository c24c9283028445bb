"""The transactional outbox: Celery tasks to send, written in the transaction of the change that
needs them, and published once it commits, or later when the broker answers again.

The bottom of the portal: it depends on Django and Celery only, and every app may use it
(``outbox.services.outbox_enqueue``).
"""
