"""The AWS call latency metric times AWS's answer, not the work done on it afterwards."""

from __future__ import annotations

import time
from typing import Any

import boto3

from app.aws.calls import call_then
from app.core.metrics import AWS_CALL_SECONDS
from tests.support.emulator import EmulatorControl


def _seconds_observed(operation: str) -> float:
    for metric in AWS_CALL_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum") and sample.labels["operation"] == operation:
                return sample.value
    return 0.0


async def test_work_on_a_result_in_the_worker_thread_is_not_counted_as_aws_latency(
    emulator: EmulatorControl, aws_endpoint_url: str,
) -> None:
    client = boto3.client("backup-gateway", endpoint_url=aws_endpoint_url,
                          region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    before = _seconds_observed("list_hypervisors")

    def slow(result: dict[str, Any]) -> int:
        time.sleep(0.3)  # stands for diffing a large page
        return len(result["Hypervisors"])

    assert await call_then(client, "list_hypervisors", slow) == 3
    assert _seconds_observed("list_hypervisors") - before < 0.3
