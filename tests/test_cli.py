import json

import httpx
import pytest

from app.cli import main
from app.core.config import ApiKeyConfig
from tests.conftest import AppFactory


async def test_create_api_key_prints_a_key_whose_entry_authenticates(
    app_factory: AppFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["create-api-key", "--name", "billing", "--scope", "operate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    key = lines[0].rsplit(" ", 1)[1]
    entry = ApiKeyConfig.model_validate(json.loads(lines[-1]))
    assert key not in lines[-1]
    async with app_factory(api_keys=[entry]) as (_, client):
        headers = {"Authorization": f"Bearer {key}"}
        assert (await client.get("/audit", headers=headers)).status_code == 403  # operate < admin
        assert (await client.get("/audit", headers={"Authorization": "Bearer vmb_x"})
                ).status_code == 401


def test_openapi_command_writes_the_document(tmp_path: object) -> None:
    from pathlib import Path

    output = Path(str(tmp_path)) / "spec.json"
    assert main(["openapi", "--output", str(output)]) == 0
    assert json.loads(output.read_text())["info"]["title"] == "vmbackup"


async def test_access_log_line_has_request_id_principal_route_status_duration(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.tokens import auth

    with caplog.at_level("INFO", logger="vmbackup.access"):
        response = await client.get("/audit", headers=auth())
    record = next(r for r in caplog.records if r.name == "vmbackup.access")
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["request_id"] == response.headers["x-request-id"]
    assert fields["principal"] == "key:test-admin"
    assert fields["route"] == "/audit"
    assert fields["status"] == 200
    assert fields["duration_ms"] >= 0
    assert "vmb_test_admin_token" not in caplog.text
