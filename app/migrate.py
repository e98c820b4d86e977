"""Run Alembic migrations from code (the CLI, the tests and the sandbox share this)."""

import asyncio

from alembic import command

from app.core.schema_version import alembic_config


async def upgrade_to_head(database_url: str) -> None:
    # Alembic's env.py runs its own event loop; keep it off ours.
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
