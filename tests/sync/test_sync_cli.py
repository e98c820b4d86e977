import json

import pytest

from app.cli import main
from tests.support.emulator import EmulatorControl
from tests.support.tokens import api_key_configs


def test_vmbackup_sync_refreshes_once_and_reports_each_run(
    database_url: str, aws_endpoint_url: str, emulator: EmulatorControl,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VMBACKUP_DATABASE_URL", database_url)
    monkeypatch.setenv("VMBACKUP_AWS_ENDPOINT_URL", aws_endpoint_url)
    monkeypatch.setenv("VMBACKUP_API_KEYS", json.dumps(
        [key.model_dump() for key in api_key_configs()]))
    # The first run discovers the hypervisors, then lists the VMs of those AWS can list.
    assert main(["sync"]) == 1  # the demo's branch office hypervisor is OFFLINE
    lines = capsys.readouterr().out.splitlines()
    by_target = {line.split()[1]: line for line in lines if line.startswith("inventory")}
    assert "succeeded" in by_target["hype-12345"]
    assert "seen=200" in by_target["hype-12345"]
    assert "failed" in by_target["hype-24680"]
    [jobs] = [line for line in lines if line.startswith("jobs")]
    assert "succeeded" in jobs
    assert main(["sync", "--hypervisor", "hype-67890"]) == 0
    assert "seen=80" in capsys.readouterr().out
