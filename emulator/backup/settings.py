"""Tunable behaviour of the backup side; defaults follow AWS where it documents a value."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass
class BackupSettings:
    default_start_window_minutes: int = 480
    min_start_window_minutes: int = 60
    # Unverified: how much longer than the start window the completion window must be.
    min_completion_margin_minutes: int = 60
    default_completion_window_minutes: int = 7 * 24 * 60
    # A job sits in CREATED briefly even when it could run at once, as on AWS.
    start_delay_seconds: float = 60.0
    # Snapshot and gateway set-up before the first byte moves.
    job_overhead_seconds: float = 60.0
    throughput_bytes_per_second: float = 100.0 * MIB
    restore_throughput_bytes_per_second: float = 100.0 * MIB
    # Share of a VM's used bytes an incremental backup transfers (deterministic).
    incremental_change_fraction: float = 0.05
    abort_delay_seconds: float = 30.0
    running_jobs_per_vm: int = 1
    running_jobs_per_gateway: int = 4
    job_history_days: int = 30
    default_page_size: int = 1000
    max_plans: int = 300
    max_vaults: int = 300
    max_selections_per_plan: int = 100
    max_resource_arns: int = 500
    max_wildcard_resource_arns: int = 30
    max_selection_tags: int = 30
    max_selection_conditions: int = 30
    # Unverified: AWS documents only "a value other than SUCCESS" for completed-with-issues.
    message_category_with_issues: str = "COMPLETED_WITH_ISSUES"
