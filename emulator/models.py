"""The botocore service models the emulator serves, loaded once from botocore's own data."""

from __future__ import annotations

from functools import cache
from typing import Literal

import botocore.loaders
import botocore.model

ServiceName = Literal["backup", "backup-gateway"]


@cache
def _loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@cache
def service_model(name: ServiceName) -> botocore.model.ServiceModel:
    description = _loader().load_service_model(name, "service-2")
    return botocore.model.ServiceModel(description, service_name=name)


@cache
def operation_model(name: ServiceName, operation: str) -> botocore.model.OperationModel:
    return service_model(name).operation_model(operation)
