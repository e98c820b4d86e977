"""Problems about gateways, shared by every domain that looks one up."""

from app.core.errors import NotFound


class GatewayNotFound(NotFound):
    slug, title = "gateway-not-found", "No such gateway"
