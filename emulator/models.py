"""The botocore service models the emulator serves, loaded once from botocore's own data."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Literal

import botocore.loaders
import botocore.model

ServiceName = Literal["backup", "backup-gateway"]


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def service_description(name: ServiceName) -> dict[str, Any]:
    """The raw service-2.json model (a deep copy: callers may edit it, e.g. its protocols)."""
    return copy.deepcopy(_loader().load_service_model(name, "service-2"))


@cache
def service_model(name: ServiceName) -> botocore.model.ServiceModel:
    description = _loader().load_service_model(name, "service-2")
    return botocore.model.ServiceModel(description, service_name=name)


@cache
def operation_model(name: ServiceName, operation: str) -> botocore.model.OperationModel:
    return service_model(name).operation_model(operation)
