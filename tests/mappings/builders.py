"""Small builders and constants for the mappings tests (the emulator's demo world)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.tokens import auth

ACCOUNT = "123456789012"
PROD, DR, BRANCH = "hype-12345", "hype-67890", "hype-24680"
PROD_ARN = f"arn:aws:backup-gateway:us-east-1:{ACCOUNT}:hypervisor/{PROD}"
SYNC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/SyncRole"
BACKUP_ONLY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/BackupOnlyRole"
MISSING_ROLE = f"arn:aws:iam::{ACCOUNT}:role/NoSuchRole"
SYNC_SECONDS = 60  # more than the demo prod hypervisor's sync takes on the virtual clock


def mapping(category: str = "OS", name: str = "Windows", key: str | None = None,
            value: str | None = None) -> dict[str, str]:
    return {"vmware_category": category, "vmware_tag_name": name,
            "aws_tag_key": key if key is not None else f"{category}-{name}",
            "aws_tag_value": value if value is not None else name}


WINDOWS = mapping("OS", "Windows", "OS-Windows", "Windows")  # the seed's own example


async def read(client: httpx.AsyncClient, hypervisor_id: str, **params: Any) -> httpx.Response:
    response = await client.get(f"/mappings/{hypervisor_id}", headers=auth(), params=params)
    assert response.status_code == 200, response.text
    return response


async def put(client: httpx.AsyncClient, hypervisor_id: str, mappings: list[dict[str, str]],
              *, etag: str | None, role: str = SYNC_ROLE) -> httpx.Response:
    headers = auth() | ({"If-Match": etag} if etag is not None else {})
    return await client.put(f"/mappings/{hypervisor_id}", headers=headers,
                            json={"iam_role_arn": role, "mappings": mappings})


async def replace(client: httpx.AsyncClient, hypervisor_id: str,
                  mappings: list[dict[str, str]], role: str = SYNC_ROLE) -> dict[str, Any]:
    """Read then replace (the normal way), returning the new list."""
    etag = (await read(client, hypervisor_id)).headers["ETag"]
    response = await put(client, hypervisor_id, mappings, etag=etag, role=role)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]
