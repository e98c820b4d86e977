"""Dependencies that hand a route what the app built in its lifespan.

All async: FastAPI runs a plain `def` dependency in its threadpool, a thread hop per request.
"""

from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _settings(request: Request) -> Settings:
    return settings_of(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
