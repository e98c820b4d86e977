"""Every AWS call goes through :func:`call`: off the event loop, measured, errors translated."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from app.aws.errors import translate
from app.core.metrics import AWS_CALL_SECONDS, AWS_CALLS


async def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """Run ``client.<operation>(**params)`` in a worker thread (boto3 blocks).

    ``operation`` is the boto3 method name (``list_virtual_machines``). Retries and timeouts are the
    client's own (configured once in :mod:`app.aws.clients`).
    """
    service = client.meta.service_model.service_name
    method = getattr(client, operation)
    started = time.perf_counter()
    outcome = "ok"
    try:
        result: dict[str, Any] = await asyncio.to_thread(method, **params)
        return result
    except (ClientError, BotoCoreError) as error:
        outcome = "error"
        raise translate(error, client.meta.method_to_api_mapping.get(operation, operation)) \
            from error
    finally:
        AWS_CALLS.labels(service=service, operation=operation, outcome=outcome).inc()
        AWS_CALL_SECONDS.labels(service=service, operation=operation).observe(
            time.perf_counter() - started)
