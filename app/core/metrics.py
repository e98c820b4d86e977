"""Prometheus metrics. Labels use route templates, never raw paths, to keep cardinality bounded."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "vmbackup_http_requests_total", "HTTP requests served.",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_REQUEST_SECONDS = Histogram(
    "vmbackup_http_request_duration_seconds", "HTTP request latency.",
    ["method", "route"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
AWS_CALLS = Counter(
    "vmbackup_aws_calls_total", "Calls made to AWS APIs.",
    ["service", "operation", "outcome"], registry=REGISTRY,
)
AWS_CALL_SECONDS = Histogram(
    "vmbackup_aws_call_duration_seconds", "AWS API call latency, retries included.",
    ["service", "operation"], registry=REGISTRY,
)
SYNC_RUNS = Counter(
    "vmbackup_sync_runs_total", "Background refresh runs.",
    ["kind", "outcome"], registry=REGISTRY,
)
SYNC_LAST_SUCCESS = Gauge(
    "vmbackup_sync_last_success_timestamp_seconds", "When a refresh last succeeded.",
    ["kind"], registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "vmbackup_webhook_delivery_attempts_total", "Webhook delivery attempts.",
    ["outcome"], registry=REGISTRY,
)
