"""Settings, read from the environment (prefix ``VMBACKUP_``) or a ``.env`` file."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.scopes import Scope

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./vmbackup.db"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class ApiKeyConfig(BaseModel):
    """One static API key, stored only as the SHA-256 hex digest of the key."""

    name: str = Field(min_length=1, max_length=100)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[Scope] = Field(min_length=1)


DEFAULT_TARGET = "default"
# AWS partitions' region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ...
_REGION = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$"
_ROLE_ARN = r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]+$"


class AwsTarget(BaseModel):
    """One AWS account and region vmbackup works in (an entry of VMBACKUP_AWS_TARGETS)."""

    model_config = {"extra": "forbid"}

    alias: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
                       description="lower-case slug naming the target in the API (?target=)")
    # Optional only for the implicit default target (built from VMBACKUP_AWS_REGION).
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str = Field(pattern=_REGION)
    role_arn: str | None = Field(default=None, pattern=_ROLE_ARN, max_length=2048)
    external_id: str | None = Field(default=None, min_length=2, max_length=1224,
                                    pattern=r"^[A-Za-z0-9_+=,.@:/-]+$")
    endpoint_url: str | None = Field(default=None, pattern=r"^https?://")
    # On-demand backups' defaults in this target; unset: VMBACKUP_DEFAULT_BACKUP_*.
    default_backup_iam_role_arn: str | None = Field(default=None, pattern=_ROLE_ARN,
                                                    max_length=2048)
    default_backup_vault_name: str | None = Field(default=None, min_length=2, max_length=50,
                                                  pattern=r"^[a-zA-Z0-9\-_]+$")

    @model_validator(mode="after")
    def _role_in_its_account(self) -> AwsTarget:
        if self.external_id is not None and self.role_arn is None:
            raise ValueError(f"target {self.alias!r}: external_id needs a role_arn to assume")
        if self.role_arn is not None and self.account_id is not None \
                and f"::{self.account_id}:" not in self.role_arn:
            raise ValueError(f"target {self.alias!r}: role_arn {self.role_arn} is not a role "
                             f"of account {self.account_id}")
        backup_role = self.default_backup_iam_role_arn
        if backup_role is not None and self.account_id is not None \
                and f"::{self.account_id}:" not in backup_role:
            raise ValueError(f"target {self.alias!r}: default_backup_iam_role_arn "
                             f"{backup_role} is not a role of account {self.account_id}")
        return self


class InsecureConfiguration(ValueError):
    """The configuration would expose the service; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VMBACKUP_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    database_url: str = DEFAULT_SQLITE_URL
    # PostgreSQL connections a replica keeps open, and how many more it may open under load.
    # A connection beyond the pool is closed when returned to a full pool: a replica that
    # often serves more requests at once than its pool opens and closes connections all the
    # time, and each new one costs PostgreSQL a backend process (bench/README.md, Scale-out).
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    database_echo: bool = False

    sandbox: bool = False
    sandbox_token: SecretStr | None = None
    sandbox_scenario: str = "demo"
    # How much faster than the wall clock the sandbox emulator's clock runs.
    sandbox_clock_speed: float = Field(default=30.0, gt=0, le=3600)

    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    # The accounts/regions to work in (JSON list of AwsTarget); unset: one target, "default",
    # in aws_region. A target without endpoint_url uses aws_endpoint_url.
    aws_targets: list[AwsTarget] = Field(default_factory=list)
    aws_max_attempts: int = Field(default=3, ge=1, le=10)
    aws_retry_mode: str = Field(default="standard", pattern="^(standard|adaptive|legacy)$")
    aws_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    aws_read_timeout_seconds: float = Field(default=30.0, gt=0)
    aws_max_pool_connections: int = Field(default=20, ge=1)

    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    jwt_hs256_secret: SecretStr | None = None
    jwt_jwks_url: str | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_scope_claim: str = "scope"
    jwt_leeway_seconds: int = Field(default=30, ge=0)

    inventory_refresh_interval_seconds: float = Field(default=300.0, gt=0)
    background_refresh_enabled: bool = True
    # Hypervisor, gateway and metadata-sync status: a handful of calls, so refreshed more often.
    status_refresh_interval_seconds: float = Field(default=60.0, gt=0)
    # MaxResults per ListVirtualMachines page (backup-gateway documents no maximum; unverified).
    inventory_page_size: int = Field(default=1000, ge=1)
    # Hypervisor inventories refreshed at once by one replica.
    inventory_concurrency: int = Field(default=2, ge=1)
    # A VM's tags (GetVirtualMachine + ListTagsForResource) are fetched when it is new or changed,
    # after a metadata sync, or when older than this; at most `tag_fetch_budget_per_run` VMs per
    # hypervisor per run, `tag_fetch_concurrency` at a time.
    vm_tags_max_age_seconds: float = Field(default=24 * 3600.0, gt=0)
    tag_fetch_budget_per_run: int = Field(default=2000, ge=0)
    tag_fetch_concurrency: int = Field(default=8, ge=1)
    # Bulk tag writes (TagResource/UntagResource per VM) in flight at once per request.
    tag_write_concurrency: int = Field(default=8, ge=1)
    # How long a replica owns a refresh unit without renewing it (a dead replica's units are
    # taken over after this).
    sync_lease_seconds: float = Field(default=120.0, gt=0)
    # Plans, selections and vaults made outside vmbackup are discovered this often.
    plans_refresh_interval_seconds: float = Field(default=300.0, gt=0)
    # Group assignments (folder, hypervisor) tag their VMs with these AWS tag keys; the
    # membership tagging unit writes at most `membership_tag_writes_per_second` tag calls.
    membership_folder_tag_key: str = Field(default="vmbackup:folder", min_length=1,
                                           max_length=128)
    membership_hypervisor_tag_key: str = Field(default="vmbackup:hypervisor", min_length=1,
                                               max_length=128)
    membership_tag_writes_per_second: float = Field(default=20.0, gt=0)
    membership_tag_concurrency: int = Field(default=4, ge=1)
    # Gateway software releases are named by date; tag mapping needs one after 2022-12-15.
    gateway_tag_mapping_min_software: str = Field(default="2022-12-16", min_length=1)

    # Backup jobs: how often the job refresh runs, how far back each listing reaches before the
    # last one's newest dates (AWS may list a job a little late), and the on-demand defaults.
    job_refresh_interval_seconds: float = Field(default=60.0, gt=0)
    job_refresh_overlap_seconds: float = Field(default=600.0, ge=0)
    default_backup_vault_name: str | None = Field(default=None, min_length=2, max_length=50)
    default_backup_iam_role_arn: str | None = Field(default=None, max_length=2048)
    # AWS rules for StartBackupJob windows (the completion margin is unverified: configurable).
    backup_min_start_window_minutes: int = Field(default=60, ge=1)
    backup_min_completion_margin_minutes: int = Field(default=60, ge=0)
    # How long the vault names read from ListBackupVaults are trusted for on-demand checks.
    backup_vault_cache_seconds: float = Field(default=300.0, ge=0)
    # A VM's cached recovery points are listed from AWS again when read this long after.
    recovery_points_max_age_seconds: float = Field(default=60.0, ge=0)
    # AWS may under-report a VMware backup's size at first: the size counts as final once the
    # job was read again this long after it completed.
    job_size_settle_seconds: float = Field(default=300.0, ge=0)
    # Backup and restore jobs a gateway runs at once (AWS: 4); more wait in CREATED.
    gateway_concurrent_jobs: int = Field(default=4, ge=1)

    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    idempotency_stale_after_seconds: int = Field(default=300, ge=1)
    # Keys the fingerprints of idempotent requests (their bodies may hold passwords). Give every
    # replica the same value; unset, a key is derived from the authentication settings.
    secret_key: SecretStr | None = None

    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON

    # GET /vms pages kept in memory per replica (0: no cache) and their total size, and how
    # often a replica checks whether another one changed the inventory (the bound on how stale
    # a cached page can be).
    response_cache_entries: int = Field(default=1024, ge=0)
    response_cache_max_megabytes: float = Field(default=64.0, gt=0)
    response_cache_poll_seconds: float = Field(default=1.0, gt=0)

    # GET /events: how often a stream looks for new events in the outbox (the bound on how late
    # another replica's event reaches this one's clients), and the comment line sent when
    # nothing happened for this long (keeps proxies from closing an idle stream).
    events_poll_seconds: float = Field(default=1.0, gt=0)
    events_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # A listing that discovers, changes or deletes more VMs than this writes one
    # `vm.bulk_changed` event for the hypervisor instead of one event per VM.
    events_inventory_max_per_vm: int = Field(default=1000, ge=0)
    # Events older than this are removed from the outbox (by the webhook worker's replica).
    events_retention_days: float = Field(default=7.0, gt=0)

    # Webhook deliveries: a lease-guarded worker, one replica at a time.
    webhook_delivery_enabled: bool = True
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Retry backoff: base * 2^(attempt - 1), capped; a delivery is given up after max attempts.
    webhook_backoff_base_seconds: float = Field(default=10.0, gt=0)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_max_attempts: int = Field(default=12, ge=1)
    # A subscription is disabled after this many failed attempts in a row (any deliveries).
    webhook_disable_after_failures: int = Field(default=20, ge=1)
    webhook_concurrency: int = Field(default=8, ge=1)
    # Whether webhook URLs may name loopback, private or link-local addresses (or localhost);
    # unset: only in the sandbox.
    webhook_allow_private_urls: bool | None = None

    # Request bodies larger than this are refused (413) before or while they stream in.
    max_request_body_bytes: int = Field(default=2**20, ge=1)

    page_default_limit: int = Field(default=50, ge=1)
    page_max_limit: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _jwt_needs_a_key(self) -> Settings:
        key_sources = [self.jwt_hs256_secret, self.jwt_jwks_url, self.jwt_jwks_file]
        if sum(source is not None for source in key_sources) > 1:
            raise ValueError(
                "set only one of VMBACKUP_JWT_HS256_SECRET, VMBACKUP_JWT_JWKS_URL, "
                "VMBACKUP_JWT_JWKS_FILE"
            )
        return self

    @model_validator(mode="after")
    def _targets_are_distinct(self) -> Settings:
        aliases = [target.alias for target in self.aws_targets]
        duplicates = sorted({alias for alias in aliases if aliases.count(alias) > 1})
        if duplicates:
            raise ValueError(f"VMBACKUP_AWS_TARGETS: aliases must be unique; repeated: "
                             f"{', '.join(duplicates)}")
        places = [(target.account_id, target.region) for target in self.aws_targets]
        if len(set(places)) != len(places):
            raise ValueError("VMBACKUP_AWS_TARGETS: two targets name the same account and "
                             "region (each would refresh the same resources)")
        missing = [target.alias for target in self.aws_targets if target.account_id is None]
        if missing:
            raise ValueError(f"VMBACKUP_AWS_TARGETS: account_id is required (targets "
                             f"{', '.join(missing)})")
        return self

    @cached_property
    def targets(self) -> list[AwsTarget]:
        """The configured targets, the first being the default for new resources."""
        if self.aws_targets:
            return list(self.aws_targets)
        return [AwsTarget(alias=DEFAULT_TARGET, region=self.aws_region)]

    @cached_property
    def is_jwt_enabled(self) -> bool:
        return any(
            source is not None
            for source in (self.jwt_hs256_secret, self.jwt_jwks_url, self.jwt_jwks_file)
        )

    @property
    def allows_private_webhook_urls(self) -> bool:
        if self.webhook_allow_private_urls is None:
            return self.sandbox
        return self.webhook_allow_private_urls

    @cached_property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    def fingerprint_key(self) -> bytes:
        """A server-side key, never stored in the database, for keyed request fingerprints."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        material = {
            "api_keys": sorted(key.sha256 for key in self.api_keys),
            "jwt": [
                self.jwt_hs256_secret.get_secret_value() if self.jwt_hs256_secret else None,
                self.jwt_jwks_url, str(self.jwt_jwks_file), self.jwt_issuer, self.jwt_audience,
            ],
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).digest()

    def check_safe_to_serve(self) -> None:
        """Refuse to serve outside the sandbox with nobody able to authenticate."""
        if self.sandbox:
            return
        if not self.api_keys and not self.is_jwt_enabled:
            raise InsecureConfiguration(
                "No authentication is configured. Set VMBACKUP_API_KEYS (a JSON list of "
                '{"name", "sha256", "scopes"}; `vmbackup create-api-key` makes one) and/or '
                "VMBACKUP_JWT_HS256_SECRET, VMBACKUP_JWT_JWKS_URL or VMBACKUP_JWT_JWKS_FILE "
                "(with VMBACKUP_JWT_ISSUER and VMBACKUP_JWT_AUDIENCE), or run the sandbox with "
                "VMBACKUP_SANDBOX=true."
            )
        if self.is_jwt_enabled and (self.jwt_issuer is None or self.jwt_audience is None):
            raise InsecureConfiguration(
                "JWT validation needs VMBACKUP_JWT_ISSUER and VMBACKUP_JWT_AUDIENCE so tokens "
                "minted for other services are refused."
            )
