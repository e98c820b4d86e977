"""The emulator's single ASGI app: control API, backup-gateway (JSON and CBOR), AWS Backup.

Raw ASGI rather than a framework: every request is one dispatch on a header or path prefix, and
the listing hot path should not pay for routing layers. Handlers are synchronous and fast, so they
run on the event loop; only injected latency awaits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from emulator import control, sts
from emulator.accounts import Signer, signer_of
from emulator.backup import protocol as backup_protocol
from emulator.emulator_state import EmulatorState
from emulator.errors import AwsError
from emulator.gateway import protocol as gateway_protocol
from emulator.world import World

log = logging.getLogger("emulator.server")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Response = tuple[int, dict[str, str], bytes]

GATEWAY = "backup-gateway"
BACKUP = "backup"


class EmulatorApp:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        try:
            status, headers, payload = await self._dispatch(scope, body)
        except Exception:
            # Each protocol renders its own errors; this is the net under an emulator bug.
            log.exception("%s %s failed", scope["method"], scope["path"])
            status, headers = 500, {"content-type": "application/json"}
            payload = (
                b'{"__type": "InternalServerException", "Message": "emulator bug; see its log"}'
            )

        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        raw_headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})

    async def _dispatch(self, scope: Scope, body: bytes) -> Response:
        path: str = scope["path"]
        method: str = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        if path.startswith(control.PREFIX):
            return control.handle(self.state, method, path, query, body)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        signer = signer_of(headers.get("authorization"))
        target = headers.get("x-amz-target")
        if target is None and sts.is_sts_request(method, path, signer,
                                                 headers.get("content-type", "")):
            return await self._call_sts(signer, body)
        # The signing credentials name the account; their scope, the region.
        world = self.state.world_for(signer)
        if target is not None:
            operation = gateway_protocol.operation_from_target(target) or target
            return await self._call_gateway(world, "json", operation, body)
        if method == "POST" and path.startswith(gateway_protocol.CBOR_PATH_PREFIX):
            operation = path.removeprefix(gateway_protocol.CBOR_PATH_PREFIX)
            return await self._call_gateway(world, "cbor", operation, body)
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        return await self._call_backup(world, method, raw_path, query, headers, body)

    async def _call_sts(self, signer: Signer, body: bytes) -> Response:
        request_id = self.state.next_request_id()
        try:
            await self._before_call(sts.SERVICE, _form_action(body))
        except AwsError as error:
            return sts.render_error(error, request_id)
        with self.state.world.lock:
            return sts.handle(self.state.accounts, self.state.world, signer, body, request_id)

    async def _call_gateway(
        self, world: World, protocol: gateway_protocol.Protocol, operation: str, body: bytes
    ) -> Response:
        request_id = self.state.next_request_id()
        try:
            await self._before_call(GATEWAY, operation)
        except AwsError as error:
            return gateway_protocol.render_error(protocol, error, request_id)
        return gateway_protocol.handle(world, protocol, operation, body, request_id)

    async def _call_backup(
        self, world: World, method: str, raw_path: str, query: str, headers: dict[str, str],
        body: bytes
    ) -> Response:
        request_id = self.state.next_request_id()
        if world.backup is None:
            error = AwsError("UnknownOperationException", f"No route for {method} {raw_path}", 404)
            return backup_protocol.render_error(error, request_id)
        operation = backup_protocol.operation_for(method, raw_path) or "UnknownOperation"
        try:
            await self._before_call(BACKUP, operation)
        except AwsError as error:
            return backup_protocol.render_error(error, request_id)
        return backup_protocol.handle(world, method, raw_path, query, headers, body, request_id)

    async def _before_call(self, service: str, operation: str) -> None:
        """Let the clock catch up, count the call, apply injected faults (errors and latency)."""
        with self.state.world.lock:
            self.state.world.clock.catch_up()
            self.state.counters.count(service, operation)
            latency_seconds = self.state.faults.before_call(service, operation)
        if latency_seconds > 0:
            await asyncio.sleep(latency_seconds)


def _form_action(body: bytes) -> str:
    """The Action of a query-protocol request, for the call counters and fault rules."""
    for pair in body.split(b"&"):
        key, _, value = pair.partition(b"=")
        if key == b"Action":
            return value.decode("latin-1")
    return "UnknownOperation"


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _serve_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(state: EmulatorState) -> EmulatorApp:
    return EmulatorApp(state)
