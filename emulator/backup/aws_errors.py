"""The AWS Backup exceptions the emulator raises (all modeled, status 400 unless noted)."""

from __future__ import annotations

from emulator.errors import AwsError


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, 400, Type="User")


def missing_parameter(message: str) -> AwsError:
    return AwsError("MissingParameterValueException", message, 400, Type="User")


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 400, Type="User")


def already_exists(message: str, **fields: str) -> AwsError:
    return AwsError("AlreadyExistsException", message, 400, Type="User", **fields)


def limit_exceeded(message: str) -> AwsError:
    return AwsError("LimitExceededException", message, 400, Type="User")


def invalid_request(message: str) -> AwsError:
    return AwsError("InvalidRequestException", message, 400, Type="User")
