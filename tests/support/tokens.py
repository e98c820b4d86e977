"""API keys for the test principals, one per scope."""

from app.core.auth import hash_api_key
from app.core.config import ApiKeyConfig
from app.core.scopes import Scope

TOKENS = {scope: f"vmb_test_{scope.value}_token" for scope in Scope}


def api_key_configs() -> list[ApiKeyConfig]:
    return [
        ApiKeyConfig(name=f"test-{scope.value}", sha256=hash_api_key(token), scopes=[scope])
        for scope, token in TOKENS.items()
    ]


def auth(scope: Scope = Scope.ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[scope]}"}
