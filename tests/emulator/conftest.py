"""One emulator per test session (in-process, strict), reset before every test.

Tests talk to it only over HTTP: unmodified boto3 for AWS operations, httpx for /_emulator/.
`gateway` is a boto3 backup-gateway client, once per wire protocol: awsJson1_0 (boto3's own
choice) and rpc-v2-cbor (through a model copy that offers only CBOR, as other SDKs use).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import httpx
import pytest
from botocore.config import Config

from emulator.models import service_description
from emulator.runner import RunningEmulator, start_emulator
from tests.emulator.aws_ids import REGION

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    # EMULATOR_WITHOUT_BACKUP=1 runs the gateway tests alone, e.g. while the backup side is
    # mid-change and does not import.
    with_backup = os.environ.get("EMULATOR_WITHOUT_BACKUP") != "1"
    running = start_emulator("demo", strict=True, with_backup=with_backup)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def control_client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{emulator.url}/_emulator") as client:
        yield client


EMULATOR_FIXTURES = frozenset(
    {"emulator", "control", "gateway", "json_gateway", "unvalidated_gateway", "advance"}
)


@pytest.fixture(autouse=True)
def _reset_emulator(request: pytest.FixtureRequest) -> None:
    """A fresh demo world for every test that talks to the shared emulator."""
    if EMULATOR_FIXTURES.isdisjoint(request.fixturenames):
        return
    control_client: httpx.Client = request.getfixturevalue("control_client")
    control_client.post("/reset").raise_for_status()


@pytest.fixture
def control(control_client: httpx.Client) -> httpx.Client:
    return control_client


@pytest.fixture(scope="session")
def cbor_data_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A botocore data dir whose backup-gateway model offers only smithy-rpc-v2-cbor."""
    root = tmp_path_factory.mktemp("botocore-data")
    model = service_description("backup-gateway")
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    target = root / "backup-gateway" / "2021-01-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    return root


def make_gateway_client(
    url: str, protocol: str, cbor_data_path: Path, config: Config = NO_RETRIES
) -> Any:
    session = botocore.session.get_session()
    if protocol == "cbor":
        session.get_component("data_loader").search_paths.insert(0, str(cbor_data_path))
    client = boto3.Session(botocore_session=session).client(
        "backup-gateway",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=config,
    )
    expected = "json" if protocol == "json" else "smithy-rpc-v2-cbor"
    assert client.meta.service_model.resolved_protocol == expected
    return client


@pytest.fixture(scope="session", params=["json", "cbor"])
def gateway(request: pytest.FixtureRequest, emulator: RunningEmulator, cbor_data_path: Path) -> Any:
    return make_gateway_client(emulator.url, request.param, cbor_data_path)


@pytest.fixture(scope="session")
def json_gateway(emulator: RunningEmulator, cbor_data_path: Path) -> Any:
    return make_gateway_client(emulator.url, "json", cbor_data_path)


@pytest.fixture(scope="session", params=["json", "cbor"])
def unvalidated_gateway(
    request: pytest.FixtureRequest, emulator: RunningEmulator, cbor_data_path: Path
) -> Any:
    """A client that skips botocore's own checks, so the emulator's are what runs."""
    config = NO_RETRIES.merge(Config(parameter_validation=False))
    return make_gateway_client(emulator.url, request.param, cbor_data_path, config)


@pytest.fixture
def advance(control: httpx.Client) -> Any:
    def move(seconds: float) -> None:
        control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    return move
