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


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, 409)


def access_denied(message: str) -> AwsError:
    return AwsError("AccessDeniedException", message, 403)


def throttled(message: str = "Rate exceeded") -> AwsError:
    return AwsError("ThrottlingException", message, 429)


def internal_error(message: str = "An internal error occurred") -> AwsError:
    return AwsError("InternalServerException", message, 500)


class ControlError(Exception):
    """A mistake in a control API (/_emulator/) request: rendered as {"error": ...}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
