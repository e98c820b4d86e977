"""Input the sandbox took when probed: numbers as date-times, control characters in a host,
tag keys and VMware names of spaces only. Each is a 422 naming the field, before any AWS call."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.tokens import auth


def _date_time_filters() -> list[tuple[str, str]]:
    """Every date-time query parameter of a GET without path parameters, from the contract:
    a new filter is checked without being listed here."""
    spec = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        for parameter in get.get("parameters", []):
            schema = parameter.get("schema", {})
            formats = {schema.get("format")} | {choice.get("format")
                                                for choice in schema.get("anyOf", [])}
            if parameter["in"] == "query" and "date-time" in formats:
                found.append((path, parameter["name"]))
    return found


DATE_TIME_FILTERS = _date_time_filters()


async def test_date_time_filters_take_iso_8601_with_a_zone_only(
    client: httpx.AsyncClient,
) -> None:
    assert ("/restores", "created_after") in DATE_TIME_FILTERS  # found: plain datetime took 0.5
    for path, name in DATE_TIME_FILTERS:
        for value in ["0.5", "0", "1700000000", "2026-01-05", "2026-01-05T09:00", "true"]:
            response = await client.get(path, params={name: value}, headers=auth())
            assert response.status_code == 422, (path, name, value)
            assert response.json()["invalid_params"][0]["name"] == f"query.{name}"
        accepted = await client.get(path, params={name: "2026-01-05T09:00:00+02:00"},
                                    headers=auth())
        assert accepted.status_code == 200


async def test_a_hypervisor_host_has_no_control_characters_or_spaces(
    client: httpx.AsyncClient,
) -> None:
    for host in ["vcenter\x00.example", "vcenter\n.example", "v\tcenter", "vcenter .example",
                 "vc\x7fenter", "vc\u0085enter"]:
        response = await client.post("/hypervisors", headers=auth(),
                                     json={"name": "lab", "host": host})
        assert response.status_code == 422, host
        assert [param["name"] for param in response.json()["invalid_params"]] == ["body.host"]


@pytest.mark.parametrize("key", [" ", "\u00a0\u2003"])
async def test_a_tag_key_of_spaces_only_is_refused(client: httpx.AsyncClient, key: str) -> None:
    tagged = await client.post("/vms/aws-tags/add", headers=auth(),
                               json={"vm_ids": ["vm-1"], "tags": [{"key": key, "value": "v"}]})
    assert tagged.status_code == 422
    assert tagged.json()["invalid_params"][0]["name"] == "body.tags.0.key"
    imported = await client.post("/hypervisors", headers=auth(), json={
        "name": "lab", "host": "vcenter.example", "tags": [{"key": key, "value": "v"}]})
    assert imported.status_code == 422
    mapped = await client.put("/mappings/hype-12345", headers={**auth(), "If-Match": '"x"'},
                              json={"mappings": [{
                                  "vmware_category": " ", "vmware_tag_name": "\x01",
                                  "aws_tag_key": key, "aws_tag_value": "v"}]})
    assert mapped.status_code == 422
    names = {param["name"] for param in mapped.json()["invalid_params"]}
    assert {"body.mappings.0.vmware_category", "body.mappings.0.vmware_tag_name",
            "body.mappings.0.aws_tag_key"} <= names


async def test_a_webhook_description_has_no_nul(client: httpx.AsyncClient) -> None:
    # Found by the stateful contract fuzzing: PostgreSQL text cannot hold NUL, the insert
    # failed as a 500. Other control characters (line breaks) are fine in free text.
    body = {"url": "https://hooks.example.com/x", "event_types": ["job."]}
    refused = await client.post("/webhooks", headers=auth(),
                                json={**body, "description": "nightly\x00"})
    assert refused.status_code == 422, refused.text
    assert [param["name"] for param in refused.json()["invalid_params"]] == ["body.description"]
    created = await client.post("/webhooks", headers=auth(),
                                json={**body, "description": "nightly\nbackups"})
    assert created.status_code == 201, created.text
    changed = await client.patch(f"/webhooks/{created.json()['id']}", headers=auth(),
                                 json={"description": "\x00"})
    assert changed.status_code == 422, changed.text
    assert [param["name"] for param in changed.json()["invalid_params"]] == ["body.description"]
