from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.core.aws_types import (
    MAX_TAGS_PER_RESOURCE,
    AwsTagKey,
    AwsTagValue,
    GatewayName,
    HypervisorHost,
    HypervisorUsername,
    KmsKeyArn,
)
from app.core.pagination import Page

ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9-]+$")]
LogGroupArn = Annotated[str, StringConstraints(
    max_length=2048,
    pattern=r"^(|arn:(aws|aws-cn|aws-us-gov):logs:[a-zA-Z0-9-]+:[0-9]+:log-group:"
    r"[a-zA-Z0-9_\-/.]+:\*)$")]


def _printable_ascii(secret: SecretStr) -> SecretStr:
    # The message must not quote the value: it is a password.
    if not all(" " <= character <= "~" for character in secret.get_secret_value()):
        raise ValueError("must be printable ASCII characters")
    return secret


Password = Annotated[
    SecretStr,
    Field(min_length=1, max_length=100, json_schema_extra={"writeOnly": True},
          description="Sent to AWS only: never stored, logged or returned."),
    AfterValidator(_printable_ascii),
]


class TagWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: AwsTagKey
    value: AwsTagValue


def unique_tag_keys(tags: list[TagWrite]) -> list[TagWrite]:
    keys = [tag.key for tag in tags]
    if len(set(keys)) != len(keys):
        raise ValueError("tag keys must be unique")
    return tags


class HypervisorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GatewayName
    host: HypervisorHost = Field(description="FQDN or IP address of the vCenter or ESXi host.")
    username: HypervisorUsername | None = None
    password: Password | None = None
    kms_key_arn: KmsKeyArn | None = None
    tags: Annotated[list[TagWrite], AfterValidator(unique_tag_keys)] = Field(
        default_factory=list, max_length=MAX_TAGS_PER_RESOURCE)
    gateway_id: ResourceId | None = Field(
        default=None, description="A gateway to associate with the new hypervisor.")


class HypervisorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GatewayName | None = None
    host: HypervisorHost | None = None
    username: HypervisorUsername | None = None
    password: Password | None = None
    log_group_arn: LogGroupArn | None = Field(
        default=None, description="CloudWatch log group for the gateway; empty turns it off.")

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict) and not any(value is not None for value in data.values()):
            raise ValueError("give at least one field to change")
        return data


class ConnectionTestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: HypervisorUsername | None = None
    password: Password | None = None
    host: HypervisorHost | None = Field(default=None,
                                        description="Defaults to the hypervisor's host.")
    gateway_id: ResourceId | None = Field(
        default=None, description="Defaults to the gateway associated with the hypervisor.")


class ConnectionTestRead(BaseModel):
    is_successful: bool
    gateway_id: str
    host: str
    message: str | None = Field(description="Why the gateway could not connect or log in.")


class HypervisorMetadataSyncRead(BaseModel):
    status: str | None = Field(
        description="CREATED | RUNNING | FAILED | PARTIALLY_FAILED | SUCCEEDED; null if never.")
    message: str | None
    last_succeeded_at: datetime | None
    vms_awaiting_tag_read: int = Field(description=(
        "Cached VMs whose tags vmbackup has not read since the last successful sync it saw "
        "(or never read). vmbackup re-reads them on its own once it sees a sync succeed."))
    are_vm_tags_current: bool = Field(description=(
        "Whether every cached VM's tags were read after the last successful sync vmbackup saw: "
        "the cached AWS tags show what that sync applied. GET /mappings/{hypervisor_id}/sync "
        "follows a sync live."))


class HypervisorRead(BaseModel):
    id: str
    arn: str
    target: str = Field(description="The AWS target (account/region alias) it lives in.")
    name: str
    host: str
    state: str = Field(description="PENDING | ONLINE | OFFLINE | ERROR")
    kms_key_arn: str | None
    log_group_arn: str | None
    gateway_id: str | None
    vm_count: int = Field(description="Cached VMs that are not tombstoned.")
    metadata_sync: HypervisorMetadataSyncRead
    synced_at: datetime = Field(description="When the hypervisor was last read from AWS.")
    inventory_synced_at: datetime | None = Field(
        description="When a complete VM listing last refreshed the cached inventory.")
    inventory_error: str | None = Field(
        description="Why the last inventory refresh failed; the cache keeps the last good data.")
    deleted_at: datetime | None

    @field_validator("log_group_arn")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class HypervisorPage(Page[HypervisorRead]):
    pass
