"""The event outbox: what other domains record, and what GET /events and webhooks deliver.

Other domains call :func:`app.events.outbox.record_event` inside their own transaction.
"""
