"""Problems about hypervisors, shared by every domain that looks one up."""

from app.core.errors import Conflict, NotFound


class HypervisorNotFound(NotFound):
    slug, title = "hypervisor-not-found", "No such hypervisor"


class GatewayUnavailable(Conflict):
    slug, title = "gateway-unavailable", "The gateway cannot serve this hypervisor"


class PartiallyApplied(Conflict):
    slug, title = "partially-applied", "Only part of the change was applied"
