"""Every AWS call goes through :func:`call`: off the event loop, measured, errors translated."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from app.aws.errors import translate
from app.core.metrics import AWS_CALL_SECONDS, AWS_CALLS

T = TypeVar("T")


async def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """Run ``client.<operation>(**params)`` in a worker thread (boto3 blocks).

    ``operation`` is the boto3 method name (``list_virtual_machines``). Retries and timeouts are the
    client's own (configured once in :mod:`app.aws.clients`).
    """
    return await call_then(client, operation, _unchanged, **params)


def _unchanged(result: dict[str, Any]) -> dict[str, Any]:
    return result


async def call_then(client: Any, operation: str, then: Callable[[dict[str, Any]], T],
                    **params: Any) -> T:
    """:func:`call`, with ``then`` applied to the result in the same worker thread, while the
    parsed response is still in that core's cache: a 100,000-VM listing cost 0.1-0.2 s more
    CPU when the event loop's thread walked its pages (bench/README.md). The call's measured
    seconds do not include ``then``."""
    service = client.meta.service_model.service_name
    method = getattr(client, operation)
    started = time.perf_counter()
    called_seconds: float | None = None
    outcome = "ok"

    def in_thread() -> T:
        nonlocal called_seconds
        try:
            result = method(**params)
        finally:
            called_seconds = time.perf_counter() - started
        # An error ``then`` raises is not AWS's: it passes through untranslated.
        return then(result)

    try:
        return await asyncio.to_thread(in_thread)
    except (ClientError, BotoCoreError) as error:
        outcome = "error"
        raise translate(error, client.meta.method_to_api_mapping.get(operation, operation)) \
            from error
    finally:
        AWS_CALLS.labels(service=service, operation=operation, outcome=outcome).inc()
        AWS_CALL_SECONDS.labels(service=service, operation=operation).observe(
            time.perf_counter() - started if called_seconds is None else called_seconds)
