"""The tag-mapping problems read as sentences a person wrote: no capital mid-sentence, each
remedy said once (AWS's own words, which restate it, are kept apart in `aws_message`)."""

from __future__ import annotations

import httpx
import pytest

from tests.mappings.builders import BACKUP_ONLY_ROLE, DR, MISSING_ROLE, PROD, WINDOWS, put, read
from tests.mappings.conftest import Refresh
from tests.support.prose import prose_faults

pytestmark = pytest.mark.emulator


def test_the_checker_finds_what_a_reader_would() -> None:
    assert prose_faults("Replacing The tag mappings of hype-1 needs an If-Match header.")
    assert prose_faults("Update it with POST /gateways/bgw-1/software-update. AWS said: "
                        "Update it with UpdateGatewaySoftwareNow. Update it with POST "
                        "/gateways/bgw-1/software-update, then retry.")
    assert prose_faults("Replacing the tag mappings of hype-1 needs an If-Match header.") == []


async def test_precondition_problems_read_as_sentences(
        client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    missing = await put(client, PROD, [WINDOWS], etag=None)
    assert missing.status_code == 428
    detail = missing.json()["detail"]
    assert detail.startswith(f"Replacing the tag mappings of hypervisor {PROD} needs")
    assert prose_faults(detail) == []
    assert (await put(client, PROD, [WINDOWS], etag=etag)).status_code == 200
    stale = await put(client, PROD, [], etag=etag)
    assert stale.status_code == 412
    detail = stale.json()["detail"]
    assert detail.startswith(f"The tag mappings of hypervisor {PROD} changed")
    assert prose_faults(detail) == []


async def test_aws_failures_state_the_fix_once(client: httpx.AsyncClient,
                                               refresh: Refresh) -> None:
    await refresh(with_vms=False)
    too_old = await put(client, DR, [WINDOWS], etag=(await read(client, DR)).headers["ETag"])
    assert too_old.status_code == 409
    body = too_old.json()
    assert prose_faults(body["detail"]) == []
    assert "UpdateGatewaySoftwareNow" in body["aws_message"]  # AWS's words, kept apart
    assert body["detail"].startswith("The gateway bgw-67890 runs software 2022-11-02")
    refused = await put(client, PROD, [WINDOWS], etag=(await read(client, PROD)).headers["ETag"],
                        role=MISSING_ROLE)
    assert refused.status_code == 422
    assert prose_faults(refused.json()["detail"]) == []
    assert MISSING_ROLE in refused.json()["aws_message"]
    assert BACKUP_ONLY_ROLE not in refused.json()["detail"]
