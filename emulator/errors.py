"""Errors the emulator raises: AWS errors for callers, EmulatorBug for its own mistakes."""

from __future__ import annotations

from typing import Any


class AwsError(Exception):
    """An error AWS would return; each protocol renders it the way botocore parses it."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields


class EmulatorBug(AssertionError):
    """The emulator produced something AWS never would (strict mode): a 500, loudly."""


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404)


def conflict(message: str, *, error_code: str | None = None) -> AwsError:
    """ConflictException; `error_code` says which conflict (the model's ErrorCode member)."""
    fields = {} if error_code is None else {"ErrorCode": error_code}
    return AwsError("ConflictException", message, 409, **fields)


def access_denied(message: str, *, error_code: str | None = None) -> AwsError:
    fields = {} if error_code is None else {"ErrorCode": error_code}
    return AwsError("AccessDeniedException", message, 403, **fields)


class ControlError(Exception):
    """A mistake in a control API (/_emulator/) request: rendered as {"error": ...}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
