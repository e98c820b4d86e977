"""A Python client generated from openapi/openapi.json, used unmodified: start an on-demand
backup and follow it to COMPLETED on the emulator's virtual clock."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.jobs.builders import demo_vms, job_service
from tests.support.emulator import EmulatorControl
from tests.support.tokens import TOKENS

pytestmark = pytest.mark.emulator
PACKAGE = "vmbackup_client"


@pytest.fixture(scope="module")
def generated_client(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`openapi-python-client generate` (from PyPI, a dev dependency), as a user would run it."""
    output = tmp_path_factory.mktemp("generated") / PACKAGE
    bin_dir = Path(sys.executable).parent
    generated = subprocess.run(  # noqa: S603 - our own generator, fixed arguments
        [str(bin_dir / "openapi-python-client"), "generate", "--path",
         str(repo_root / "openapi" / "openapi.json"), "--output-path", str(output),
         "--meta", "none"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(output.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(output.parent))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


async def test_generated_client_follows_a_backup_to_completed(
        generated_client: Any, app_factory: AppFactory, emulator: EmulatorControl) -> None:
    client_module = importlib.import_module(f"{PACKAGE}.client")
    start_vm_backup = importlib.import_module(f"{PACKAGE}.api.jobs.start_vm_backup")
    get_job = importlib.import_module(f"{PACKAGE}.api.jobs.get_job")
    list_vms = importlib.import_module(f"{PACKAGE}.api.vms.list_vms")
    models = importlib.import_module(f"{PACKAGE}.models")
    [wanted] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (app, _):
        client = client_module.AuthenticatedClient(
            base_url="http://test", token=TOKENS[Scope.OPERATE],
            httpx_args={"transport": httpx.ASGITransport(app=app)})
        async with client:
            page = await list_vms.asyncio(client=client, name=wanted["name"], limit=1)
            [vm] = page.items
            job = await start_vm_backup.asyncio(
                vm.id, client=client, idempotency_key="generated-client-1",
                body=models.OnDemandBackupCreate(vault_name="Default"))
            assert isinstance(job, models.JobRead), job
            states = [str(job.state)]
            while states[-1] != "COMPLETED" and len(states) < 20:
                emulator.advance(300)
                job = await get_job.asyncio(job.id, client=client)
                assert isinstance(job, models.JobRead), job
                states.append(str(job.state))
    assert vm.id == wanted["vm_id"]
    assert states[0] == "CREATED"
    assert states[-1] == "COMPLETED"
    assert job.backup_size_bytes == sum(disk["used_bytes"] for disk in wanted["disks"])
    assert job.elapsed_seconds > 0
    assert str(job.change_detection) == "full"
