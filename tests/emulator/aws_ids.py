"""ARNs of the demo scenario, as tests spell them."""

from __future__ import annotations

ACCOUNT = "123456789012"
REGION = "us-east-1"


def hypervisor_arn(hypervisor_id: str) -> str:
    return f"arn:aws:backup-gateway:{REGION}:{ACCOUNT}:hypervisor/{hypervisor_id}"


def gateway_arn(gateway_id: str) -> str:
    return f"arn:aws:backup-gateway:{REGION}:{ACCOUNT}:gateway/{gateway_id}"


def vm_arn(vm_id: str) -> str:
    return f"arn:aws:backup-gateway:{REGION}:{ACCOUNT}:vm/{vm_id}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


PROD = hypervisor_arn("hype-12345")  # ONLINE, behind bgw-12345 (current software)
DR = hypervisor_arn("hype-67890")  # ONLINE, behind bgw-67890 (software too old for tag mapping)
BRANCH = hypervisor_arn("hype-24680")  # OFFLINE: its gateway bgw-24680 is down
PROD_GATEWAY = gateway_arn("bgw-12345")
DR_GATEWAY = gateway_arn("bgw-67890")
BRANCH_GATEWAY = gateway_arn("bgw-24680")
SPARE_GATEWAY = gateway_arn("bgw-13579")  # not associated
SYNC_ROLE = role_arn("SyncRole")
BACKUP_ONLY_ROLE = role_arn("BackupOnlyRole")
LAB_HOST = "vcenter-lab.example.local"
LAB_USER = "lab@vsphere.local"
LAB_PASSWORD = "Lab-Passw0rd!"
