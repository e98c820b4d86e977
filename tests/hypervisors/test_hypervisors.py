"""Hypervisor endpoints against the emulator: import, read, update, delete, test, metadata sync."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, select

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, DEMO_PROD, DEMO_SPARE_GATEWAY, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

LAB_PASSWORD = "Lab-Passw0rd!"  # the demo world's not-yet-imported vCenter
LAB = {"name": "vcenter-lab", "host": "vcenter-lab.example.local",
       "username": "lab@vsphere.local", "password": LAB_PASSWORD}


async def _database_text(app: FastAPI) -> str:
    """Every value in every table, as one string (to search for secrets)."""
    metadata = MetaData()
    async with app.state.engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        chunks = []
        for table in metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            chunks += [repr(tuple(row)) for row in rows]
    return "\n".join(chunks)


async def test_import_sends_the_password_to_aws_and_never_stores_logs_or_returns_it(
    app_factory: AppFactory, emulator: EmulatorControl, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    async with app_factory(log_level="DEBUG") as (app, client):
        await refresh(client)
        body = LAB | {"tags": [{"key": "team", "value": "lab"}],
                      "gateway_id": DEMO_SPARE_GATEWAY}
        created = await client.post("/hypervisors", json=body, headers=auth())
        assert created.status_code == 201, created.text
        hypervisor = created.json()
        assert created.headers["location"] == f"/hypervisors/{hypervisor['id']}"
        assert hypervisor["host"] == LAB["host"]
        assert hypervisor["gateway_id"] == DEMO_SPARE_GATEWAY
        assert hypervisor["state"] == "ONLINE"  # the gateway logged in with the password
        assert "password" not in hypervisor

        # Read your write: the cache has it at once, with the association.
        read = await client.get(f"/hypervisors/{hypervisor['id']}", headers=auth())
        assert read.json()["gateway_id"] == DEMO_SPARE_GATEWAY
        gateway = await client.get(f"/gateways/{DEMO_SPARE_GATEWAY}", headers=auth())
        assert gateway.json()["hypervisor_id"] == hypervisor["id"]

        updated = await client.patch(f"/hypervisors/{hypervisor['id']}",
                                     json={"password": LAB_PASSWORD}, headers=auth())
        assert updated.status_code == 200
        tested = await client.post(f"/hypervisors/{hypervisor['id']}/test-connection",
                                   json={"username": LAB["username"], "password": LAB_PASSWORD},
                                   headers=auth())
        assert tested.json()["is_successful"] is True
        listing = await client.get("/hypervisors", headers=auth())
        audit = await client.get("/audit", headers=auth())
        responses = [created, read, updated, tested, listing, audit]
        assert all(LAB_PASSWORD not in response.text for response in responses)
        assert LAB_PASSWORD not in await _database_text(app)
    assert LAB_PASSWORD not in caplog.text
    captured = capsys.readouterr()
    assert LAB_PASSWORD not in captured.err + captured.out


async def test_bad_input_is_a_422_naming_the_field_and_costs_no_aws_call(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        emulator.reset_counters()
        cases: list[tuple[dict[str, Any], str]] = [
            (LAB | {"name": "has spaces"}, "body.name"),
            (LAB | {"host": "ab"}, "body.host"),
            (LAB | {"password": "x" * 101}, "body.password"),
            (LAB | {"password": "tab\there"}, "body.password"),
            (LAB | {"kms_key_arn": "not-an-arn"}, "body.kms_key_arn"),
            (LAB | {"tags": [{"key": "aws:reserved", "value": "v"}]}, "body.tags.0.key"),
            (LAB | {"tags": [{"key": "k" * 129, "value": "v"}]}, "body.tags.0.key"),
            (LAB | {"tags": [{"key": "ok", "value": "v" * 257}]}, "body.tags.0.value"),
            (LAB | {"tags": [{"key": f"k{i}", "value": ""} for i in range(51)]}, "body.tags"),
            (LAB | {"unexpected": 1}, "body.unexpected"),
        ]
        for body, field in cases:
            response = await client.post("/hypervisors", json=body, headers=auth())
            assert response.status_code == 422, (field, response.text)
            names = [param["name"] for param in response.json()["invalid_params"]]
            assert any(name.startswith(field) for name in names), (field, names)
            assert LAB_PASSWORD not in response.text
        patch = await client.patch(f"/hypervisors/{DEMO_PROD}", json={}, headers=auth())
        assert patch.status_code == 422
        patch = await client.patch(f"/hypervisors/{DEMO_PROD}",
                                   json={"log_group_arn": "arn:nope"}, headers=auth())
        assert patch.status_code == 422
        assert emulator.total_calls() == 0


async def test_aws_errors_map_to_clear_problems(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        # The host is already configured as hype-12345: AWS says conflict.
        duplicate = await client.post("/hypervisors", headers=auth(),
                                      json=LAB | {"host": "vcenter-prod.example.local"})
        assert duplicate.status_code == 409
        assert duplicate.json()["aws_error_code"] == "ConflictException"
        assert "already configured" in duplicate.json()["detail"]

        wrong = await client.post(f"/hypervisors/{DEMO_PROD}/test-connection", headers=auth(),
                                  json={"username": "backup@vsphere.local", "password": "nope"})
        assert wrong.status_code == 200
        assert wrong.json()["is_successful"] is False
        assert "password is incorrect" in wrong.json()["message"]

        emulator.add_fault(service="backup-gateway", operation="UpdateHypervisor",
                           fail_next=1, fail_code="AccessDeniedException")
        denied = await client.patch(f"/hypervisors/{DEMO_PROD}", json={"name": "renamed"},
                                    headers=auth())
        assert denied.status_code == 403
        assert "IAM" in denied.json()["detail"]

        missing = await client.get("/hypervisors/hype-00000000", headers=auth())
        assert missing.status_code == 404
        assert missing.json()["type"].endswith("/hypervisor-not-found")


async def test_update_and_delete_write_through_to_the_cache(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        renamed = await client.patch(f"/hypervisors/{DEMO_DR}", json={"name": "vcenter-dr-2"},
                                     headers=auth())
        assert renamed.status_code == 200
        assert renamed.json()["name"] == "vcenter-dr-2"
        deleted = await client.delete(f"/hypervisors/{DEMO_DR}", headers=auth())
        assert deleted.status_code == 204
        assert (await client.get(f"/hypervisors/{DEMO_DR}", headers=auth())).status_code == 404
        listed = (await client.get("/hypervisors", headers=auth())).json()["items"]
        assert DEMO_DR not in {item["id"] for item in listed}
        with_deleted = await client.get("/hypervisors", params={"include_deleted": "true"},
                                        headers=auth())
        assert DEMO_DR in {item["id"] for item in with_deleted.json()["items"]}
        vms = await client.get("/vms", params={"hypervisor_id": DEMO_DR}, headers=auth())
        assert vms.status_code == 404  # a deleted hypervisor's filter matches no live VM
        vms = await client.get("/vms", params={"hypervisor_id": DEMO_DR,
                                               "include_deleted": "true"}, headers=auth())
        assert vms.json()["items"]
        assert all(vm["deleted_at"] for vm in vms.json()["items"])
        gateway = (await client.get("/gateways/bgw-67890", headers=auth())).json()
        assert gateway["hypervisor_id"] is None


async def test_metadata_sync_starts_and_its_status_shows_on_the_hypervisor(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        started = await client.post(f"/hypervisors/{DEMO_PROD}/metadata-sync", headers=auth())
        assert started.status_code == 202
        assert started.json()["metadata_sync"]["status"] == "CREATED"  # AWS's, not the cache's
        assert started.json()["metadata_sync"]["are_vm_tags_current"] is False
        # The live sync resource, which says when the VMs' tags show the sync.
        assert started.headers["Location"] == f"/mappings/{DEMO_PROD}/sync"
        emulator.advance(600)
        followed = await client.get(started.headers["Location"], params={"wait_seconds": 60},
                                    headers=auth())
        assert followed.json()["status"] == "SUCCEEDED"
        assert followed.json()["are_vm_tags_current"] is True
        await refresh(client, DEMO_PROD)
        hypervisor = (await client.get(f"/hypervisors/{DEMO_PROD}", headers=auth())).json()
        assert hypervisor["metadata_sync"]["status"] == "SUCCEEDED"
        assert hypervisor["metadata_sync"]["last_succeeded_at"] is not None


async def test_vms_of_one_hypervisor(app_factory: AppFactory, emulator: EmulatorControl) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        page = await client.get(f"/hypervisors/{DEMO_DR}/vms", params={"limit": 500},
                                headers=auth())
        assert page.status_code == 200
        assert len(page.json()["items"]) == 80
        assert {vm["hypervisor_id"] for vm in page.json()["items"]} == {DEMO_DR}
        unknown = await client.get("/hypervisors/hype-00000000/vms", headers=auth())
        assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/hypervisors", LAB),
        ("PATCH", f"/hypervisors/{DEMO_PROD}", {"name": "x"}),
        ("DELETE", f"/hypervisors/{DEMO_PROD}", None),
        ("POST", f"/hypervisors/{DEMO_PROD}/test-connection", {}),
    ],
)
async def test_hypervisor_changes_need_the_admin_scope(
    app_factory: AppFactory, emulator: EmulatorControl, method: str, path: str,
    body: dict[str, Any] | None,
) -> None:
    async with app_factory() as (_app, client):
        emulator.reset_counters()
        for scope in (Scope.READ, Scope.OPERATE):
            response = await client.request(method, path, json=body, headers=auth(scope))
            assert response.status_code == 403
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401
        reader = await client.get("/hypervisors", headers=auth(Scope.READ))
        assert reader.status_code == 200
        assert emulator.total_calls() == 0


async def test_metadata_sync_needs_the_operate_scope(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        path = f"/hypervisors/{DEMO_PROD}/metadata-sync"
        assert (await client.post(path, headers=auth(Scope.READ))).status_code == 403
        assert (await client.post(path, headers=auth(Scope.OPERATE))).status_code == 202
