"""Local AWS Backup + AWS Backup Gateway emulator (see docs/emulator.md)."""
