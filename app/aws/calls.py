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
    seconds do not include ``then``; an error ``then`` raises is not AWS's: it passes through
    untranslated."""
    return await asyncio.to_thread(lambda: then(_measured(client, operation, params)))


async def calls_in_sequence(client: Any,
                            *calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Several calls, one after the other in one worker thread: one hand-over to a thread and
    back instead of one per call (each wakes a thread and then the event loop; for the two
    calls that read a VM's tags that was a fifth of the CPU, bench/README.md). The first
    error ends the sequence."""
    return await asyncio.to_thread(
        lambda: [_measured(client, operation, params) for operation, params in calls])


def _measured(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The call itself, in the calling (worker) thread: counted, timed, errors translated."""
    service = client.meta.service_model.service_name
    started = time.perf_counter()
    outcome = "ok"
    try:
        result: dict[str, Any] = getattr(client, operation)(**params)
        return result
    except (ClientError, BotoCoreError) as error:
        outcome = "error"
        raise translate(error, client.meta.method_to_api_mapping.get(operation, operation)) \
            from error
    finally:
        AWS_CALLS.labels(service=service, operation=operation, outcome=outcome).inc()
        AWS_CALL_SECONDS.labels(service=service, operation=operation).observe(
            time.perf_counter() - started)
