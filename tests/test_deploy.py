"""deploy/compose.yaml stays the topology deploy/topology.py starts, with real settings."""

from __future__ import annotations

from pathlib import Path

import yaml  # type: ignore[import-untyped]

from app.core.config import Settings

COMPOSE = Path(__file__).resolve().parents[1] / "deploy" / "compose.yaml"


def test_compose_runs_three_replicas_on_one_postgres_beside_the_emulator() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    replicas = {name: service for name, service in services.items()
                if name.startswith("replica-")}
    assert len(replicas) == 3
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["emulator"]["command"][:3] == ["python", "-m", "emulator"]
    assert services["migrate"]["command"] == ["vmbackup", "migrate"]
    urls = {service["environment"]["VMBACKUP_DATABASE_URL"] for service in replicas.values()}
    assert urls == {services["migrate"]["environment"]["VMBACKUP_DATABASE_URL"]}
    assert next(iter(urls)).startswith("postgresql+asyncpg://")
    fields = set(Settings.model_fields)
    for service in replicas.values():
        names = [name for name in service["environment"] if name.startswith("VMBACKUP_")]
        assert [n for n in names if n.removeprefix("VMBACKUP_").lower() not in fields] == []
        assert service["environment"]["VMBACKUP_AWS_ENDPOINT_URL"] == "http://emulator:4566"
