"""The sandbox: an in-process emulator seeded with a demo world, and a dev admin token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.core.auth import hash_api_key, new_api_key
from app.core.config import ApiKeyConfig, Settings
from app.core.scopes import Scope

logger = logging.getLogger("vmbackup.sandbox")
# Hypervisor, gateway and metadata-sync status refresh interval of the sandbox, unless set.
SANDBOX_STATUS_REFRESH_SECONDS = 5.0


@dataclass
class Sandbox:
    token: str
    admin_key: ApiKeyConfig
    emulator: Any | None  # emulator.runner's running emulator, when one was started

    def stop(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()


SANDBOX_BACKUP_ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


def start_sandbox(settings: Settings) -> tuple[Sandbox, Settings]:
    """Start what the sandbox needs and return it with the settings pointing at it."""
    token = settings.sandbox_token.get_secret_value() if settings.sandbox_token else new_api_key()
    admin_key = ApiKeyConfig(name="sandbox-admin", sha256=hash_api_key(token), scopes=[Scope.ADMIN])
    emulator = None
    if settings.aws_endpoint_url is None:
        from emulator.runner import start_emulator

        # The clock starts now (vmbackup stamps host time, so both agree at the start) and runs
        # `sandbox_clock_speed` times faster than the wall clock, so a gateway update (300 s)
        # or a backup (minutes) finishes while you watch.
        emulator = start_emulator(settings.sandbox_scenario, speed=settings.sandbox_clock_speed,
                                  starts_now=True)
        update: dict[str, Any] = {"aws_endpoint_url": emulator.url}
        if "status_refresh_interval_seconds" not in settings.model_fields_set:
            # On the fast clock a gateway update installs in seconds: see it as soon.
            update["status_refresh_interval_seconds"] = SANDBOX_STATUS_REFRESH_SECONDS
        # The demo world's vault and the account's default backup role, so an on-demand
        # backup needs no body.
        for name, value in (("default_backup_vault_name", "Default"),
                            ("default_backup_iam_role_arn", SANDBOX_BACKUP_ROLE)):
            if getattr(settings, name) is None:
                update[name] = value
        settings = settings.model_copy(update=update)
        logger.info("sandbox emulator listening", extra={"fields": {"url": emulator.url}})
    return Sandbox(token=token, admin_key=admin_key, emulator=emulator), settings


def announce(sandbox: Sandbox, base_url: str) -> None:
    # Printed, not logged: this is for the person who just typed `make run`.
    print(
        f"\n  vmbackup sandbox is up.\n"
        f"  API docs:        {base_url}/docs\n"
        f"  Dev admin token: {sandbox.token}\n"
        f"  Try: curl -H 'Authorization: Bearer {sandbox.token}' {base_url}/audit\n",
        flush=True,
    )
