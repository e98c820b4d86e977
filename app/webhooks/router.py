from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.core.app_state import SettingsDep
from app.core.auth import AdminDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.idempotency import IdempotencyKeyDep
from app.core.pagination import PageDep
from app.webhooks import service
from app.webhooks.errors import WebhookNotFound
from app.webhooks.schemas import (
    DeliveryStatus,
    WebhookCreate,
    WebhookDeliveryPage,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

WebhookIdPath = Annotated[str, Path(pattern=r"^wh-[0-9a-f]{16}$", description="e.g. "
                                    "wh-0123456789abcdef")]
_ONE = (*COMMON_ERRORS, WebhookNotFound)


@router.post("", status_code=201, response_model=WebhookRead,
             responses=error_responses(*COMMON_ERRORS))
async def create_webhook(body: WebhookCreate, response: Response, session: SessionDep,
                         settings: SettingsDep, principal: AdminDep,
                         _key: IdempotencyKeyDep = None) -> WebhookRead:
    """Subscribe a URL to event types. The answer carries the signing `secret`, the only time
    it is shown; deliveries start with the next event."""
    created = await service.create_webhook(session=session, settings=settings, body=body,
                                           principal=principal.name)
    response.headers["Location"] = f"/webhooks/{created.id}"
    response.headers["Cache-Control"] = "no-store"  # it carries the secret
    return created


@router.get("", response_model=WebhookPage, responses=error_responses(*COMMON_ERRORS))
async def list_webhooks(session: SessionDep, _principal: AdminDep,
                        page: PageDep) -> WebhookPage:
    return await service.list_webhooks(session=session, page=page)


@router.get("/{webhook_id}", response_model=WebhookRead, responses=error_responses(*_ONE))
async def get_webhook(webhook_id: WebhookIdPath, session: SessionDep,
                      _principal: AdminDep) -> WebhookRead:
    return await service.get_webhook(session=session, webhook_id=webhook_id)


@router.patch("/{webhook_id}", response_model=WebhookRead, responses=error_responses(*_ONE))
async def update_webhook(webhook_id: WebhookIdPath, body: WebhookUpdate, response: Response,
                         session: SessionDep, settings: SettingsDep,
                         _principal: AdminDep) -> WebhookRead:
    """Change the URL, types or description; `is_enabled: true` re-enables a subscription
    disabled after failures; `rotate_secret: true` returns a new secret (shown once)."""
    response.headers["Cache-Control"] = "no-store"
    return await service.update_webhook(session=session, settings=settings,
                                        webhook_id=webhook_id, body=body)


@router.delete("/{webhook_id}", status_code=204, response_class=Response,
               responses=error_responses(*_ONE))
async def delete_webhook(webhook_id: WebhookIdPath, session: SessionDep,
                         _principal: AdminDep) -> Response:
    """Unsubscribe; its waiting deliveries and delivery log go with it."""
    await service.delete_webhook(session=session, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=WebhookDeliveryPage,
            responses=error_responses(*_ONE))
async def list_webhook_deliveries(webhook_id: WebhookIdPath, session: SessionDep,
                                  _principal: AdminDep, page: PageDep,
                                  status: DeliveryStatus | None = None) -> WebhookDeliveryPage:
    """The delivery log, newest first: attempts, the receiver's last status, the last error,
    and when the next attempt is due."""
    return await service.list_deliveries(session=session, webhook_id=webhook_id, page=page,
                                         status=status)
