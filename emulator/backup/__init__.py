"""The AWS Backup side of the emulator: rest-json protocol, plans, vaults, selections, jobs,
restores."""
