"""Problems about plans and vaults."""

from app.core.errors import Conflict, NotFound, ValidationFailed


class PlanNotFound(NotFound):
    slug, title = "plan-not-found", "No such backup plan"


class PlanInUse(Conflict):
    slug, title = "plan-in-use", "The backup plan still has selections"


class PlanNotManaged(Conflict):
    slug, title = "plan-not-managed", "The backup plan was not created through vmbackup"


class UnknownVault(ValidationFailed):
    slug, title = "unknown-vault", "No such backup vault"


class PlanNameTaken(Conflict):
    slug, title = "plan-name-taken", "A backup plan of that name exists already"
