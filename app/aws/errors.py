"""AWS failures as domain errors: the one place that knows botocore's exception shapes."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from app.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)

RETRY_AFTER_SECONDS = "5"


class AwsResourceNotFound(NotFound):
    slug, title = "aws-resource-not-found", "AWS does not know this resource"


class AwsRejectedRequest(ValidationFailed):
    slug, title = "aws-validation", "AWS rejected the request"


class AwsConflict(Conflict):
    slug, title = "aws-conflict", "AWS reports a conflicting state"


class AwsAccessDenied(Forbidden):
    slug, title = "aws-access-denied", "AWS denied access"


class AwsUnavailable(ServiceUnavailable):
    slug, title = "aws-unavailable", "AWS is unavailable"


class TargetNotConfigured(Conflict):
    slug, title = "target-not-configured", "The resource's AWS target is not configured"


# Errors every route that calls AWS can answer with.
AWS_ERRORS: tuple[type[DomainError], ...] = (
    AwsResourceNotFound, AwsRejectedRequest, AwsConflict, AwsAccessDenied, AwsUnavailable,
    TargetNotConfigured,
)

_BY_CODE: dict[str, type[DomainError]] = {
    "ResourceNotFoundException": AwsResourceNotFound,
    "ValidationException": AwsRejectedRequest,
    "InvalidParameterValueException": AwsRejectedRequest,
    "MissingParameterValueException": AwsRejectedRequest,
    "InvalidRequestException": AwsRejectedRequest,
    "LimitExceededException": AwsRejectedRequest,
    "AlreadyExistsException": AwsConflict,
    "ConflictException": AwsConflict,
    "InvalidResourceStateException": AwsConflict,
    "AccessDeniedException": AwsAccessDenied,
    "ThrottlingException": AwsUnavailable,
    "ServiceUnavailableException": AwsUnavailable,
    "InternalServerException": AwsUnavailable,
    "DependencyFailureException": AwsUnavailable,
}


def translate(error: Exception, operation: str) -> DomainError:
    """Turn a botocore failure into the problem a client should see."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        message = str(error.response.get("Error", {}).get("Message", "")) or code
        error_class = _BY_CODE.get(code, AwsUnavailable)
        detail = f"{operation}: {message}"
        if error_class is AwsAccessDenied:
            detail += (" (check the IAM permissions of the credentials vmbackup runs with, and "
                       "the IAM role named in the request)")
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if error_class is AwsUnavailable else None
        return error_class(detail, headers=headers, aws_error_code=code)
    if isinstance(error, EndpointConnectionError | ConnectionError | ReadTimeoutError):
        return AwsUnavailable(f"{operation}: the AWS endpoint could not be reached.",
                              headers={"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(error, BotoCoreError):
        return AwsUnavailable(f"{operation}: {type(error).__name__}",
                              headers={"Retry-After": RETRY_AFTER_SECONDS})
    raise error
