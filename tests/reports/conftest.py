from tests.mappings.conftest import app_and_client, control, refresh
from tests.support.emulator import aws_endpoint_url, emulator, running_emulator

__all__ = ["app_and_client", "aws_endpoint_url", "control", "emulator", "refresh",
           "running_emulator"]
