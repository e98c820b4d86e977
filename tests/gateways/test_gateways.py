"""Gateway endpoints against the emulator."""

from __future__ import annotations

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, DEMO_SPARE_GATEWAY, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth


async def test_gateways_show_software_liveness_maintenance_and_warnings(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        listed = (await client.get("/gateways", headers=auth(Scope.READ))).json()["items"]
        by_id = {gateway["id"]: gateway for gateway in listed}
        assert set(by_id) == {"bgw-12345", "bgw-67890", "bgw-24680", DEMO_SPARE_GATEWAY}
        assert [gateway["name"] for gateway in listed] == sorted(g["name"] for g in listed)

        prod = by_id["bgw-12345"]
        assert prod["hypervisor_id"] == "hype-12345"
        assert prod["supports_tag_mapping"] is True
        assert prod["warnings"] == []
        assert prod["maintenance_window"] == {"day_of_week": 6, "day_of_month": None,
                                              "hour_of_day": 2, "minute_of_hour": 0}

        dr = (await client.get("/gateways/bgw-67890", headers=auth(Scope.READ))).json()
        assert dr["software_version"] == "2022-11-02"
        assert dr["supports_tag_mapping"] is False
        assert dr["is_update_available"] is True
        assert dr["deprecated_at"] is not None
        assert any("tag mapping" in warning for warning in dr["warnings"])
        assert dr["maintenance_window"]["day_of_week"] == 0

        branch = by_id["bgw-24680"]
        assert branch["last_seen_at"] < prod["last_seen_at"]  # offline for six hours

        only_dr = await client.get("/gateways", params={"hypervisor_id": DEMO_DR},
                                   headers=auth(Scope.READ))
        assert [gateway["id"] for gateway in only_dr.json()["items"]] == ["bgw-67890"]
        missing = await client.get("/gateways/bgw-00000000", headers=auth(Scope.READ))
        assert missing.status_code == 404


async def test_software_update_is_accepted_then_installed_later(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        denied = await client.post("/gateways/bgw-67890/software-update",
                                   headers=auth(Scope.OPERATE))
        assert denied.status_code == 403
        accepted = await client.post("/gateways/bgw-67890/software-update", headers=auth())
        assert accepted.status_code == 202
        # What to follow and when it is done, not the gateway as it still is.
        assert accepted.headers["Location"] == "/gateways/bgw-67890"
        body = accepted.json()
        assert body["follow"] == "/gateways/bgw-67890"
        assert body["software_version_at_request"] == "2022-11-02"
        assert "software_version" not in body
        assert "a software_version other than 2022-11-02" in body["done_when"]

        emulator.advance(600)
        await refresh(client)
        updated = (await client.get(accepted.headers["Location"], headers=auth())).json()
        assert updated["software_version"] > "2022-12-16"
        assert updated["supports_tag_mapping"] is True
        assert updated["warnings"] == []
        assert updated["is_update_available"] is False
