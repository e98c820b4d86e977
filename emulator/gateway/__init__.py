"""AWS Backup Gateway (2021-01-01): awsJson1_0 and rpc-v2-cbor protocols and the operations."""
