from app.core.errors import NotFound


class WebhookNotFound(NotFound):
    slug, title = "webhook-not-found", "No such webhook subscription"
