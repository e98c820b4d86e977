from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from app.core.auth import ReaderDep
from app.core.db import ReadSessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.events import service
from app.events.schemas import EventLogPage, EventTypeList
from app.events.tail import EventTail

router = APIRouter(prefix="/events", tags=["events"])

TypeQuery = Annotated[list[str] | None, Query(
    alias="type", max_length=64,
    description="Only these types; repeat for several. A value ending in '.' is a prefix "
    "(`job.`); `*` is every type.")]
_EXAMPLE = ("retry: 2000\n\nid: 42\nevent: vm.discovered\ndata: {\"id\":42,\"type\":"
            "\"vm.discovered\",\"subject\":\"vm/vm-0123456789abcdef0\",\"occurred_at\":"
            "\"2026-12-06T02:00:00Z\",\"data\":{\"vm\":{...}}}\n\n: heartbeat\n\n")


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


@router.get(
    "", response_class=EventStreamResponse,
    responses={200: {"description": "A server-sent event stream: `id`, `event` (the type) "
                     "and `data` (the event as JSON, as in GET /events/log) per event; comment "
                     "lines as heartbeats.",
                     "content": {"text/event-stream": {"schema": {"type": "string"},
                                                       "example": _EXAMPLE}}},
               **error_responses(*COMMON_ERRORS)})
async def stream_events(
    request: Request,
    session: ReadSessionDep,
    _principal: ReaderDep,
    event_type: TypeQuery = None,
    last_event_id_header: Annotated[str | None, Header(
        alias="Last-Event-ID", max_length=40,
        description="Resume after this event id (EventSource sends it on reconnect).")] = None,
    last_event_id: Annotated[int | None, Query(
        ge=0, le=2**63 - 1,
        description="Resume after this event id, for clients that cannot set the header "
        "(the header wins). Without either, the stream starts with the next event.")] = None,
) -> EventStreamResponse:
    """Events as they are committed, by any replica, as server-sent events."""
    patterns = service.parse_patterns(event_type)
    resume = service.parse_resume_position(last_event_id_header, last_event_id)
    after_id = await service.start_position(session=session, resume_after=resume)
    tail: EventTail = request.app.state.event_tail
    stream = tail.stream(
        after_id=after_id, patterns=patterns,
        heartbeat_seconds=request.app.state.settings.events_heartbeat_seconds,
        is_disconnected=request.is_disconnected)
    # No buffering by proxies (nginx honours X-Accel-Buffering), no caching.
    return EventStreamResponse(stream, headers={"Cache-Control": "no-store",
                                                "X-Accel-Buffering": "no"})


@router.get("/log", response_model=EventLogPage, responses=error_responses(*COMMON_ERRORS))
async def list_events(
    session: ReadSessionDep,
    _principal: ReaderDep,
    event_type: TypeQuery = None,
    after: Annotated[int | None, Query(
        ge=0, le=2**63 - 1, description="Events after this id (the last one you saw, or the "
        "previous page's `next_after`); from the oldest kept when omitted.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventLogPage:
    """The outbox as JSON pages, oldest first, for clients that poll instead of streaming."""
    return await service.event_log(session=session, after=after,
                                   patterns=service.parse_patterns(event_type), limit=limit)


@router.get("/types", response_model=EventTypeList, responses=error_responses(*COMMON_ERRORS))
async def list_event_types(_principal: ReaderDep) -> EventTypeList:
    """Every event type with its subject and payload."""
    return service.event_types()
