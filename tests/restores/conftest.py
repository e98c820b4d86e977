from tests.support.emulator import aws_endpoint_url, emulator, running_emulator

__all__ = ["aws_endpoint_url", "emulator", "running_emulator"]
