"""AWS Backup Gateway (backup-gateway 2021-01-01): awsJson1_0 and rpc-v2-cbor, and its operations."""
