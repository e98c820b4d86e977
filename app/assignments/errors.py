"""Problems about assignments."""

from app.core.errors import Conflict, NotFound, ValidationFailed


class AssignmentNotFound(NotFound):
    slug, title = "assignment-not-found", "No such assignment"


class SelectionLimit(ValidationFailed):
    slug, title = "selection-limit", "The assignment exceeds a limit of AWS backup selections"


class AssignmentNameTaken(Conflict):
    slug, title = "assignment-name-taken", "The plan already has an assignment of that name"


class UnknownVms(ValidationFailed):
    slug, title = "unknown-vms", "Some VMs are not in the cache"


class UnknownReference(ValidationFailed):
    slug, title = "unknown-reference", "The request names something vmbackup does not know"
