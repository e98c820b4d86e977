import subprocess
import sys

import pytest

from app.core.config import InsecureConfiguration, Settings
from app.main import create_app


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_no_auth_outside_sandbox_refuses_to_start() -> None:
    with pytest.raises(InsecureConfiguration, match="VMBACKUP_API_KEYS"):
        create_app(settings())


def test_jwt_without_issuer_and_audience_refuses_to_start() -> None:
    with pytest.raises(InsecureConfiguration, match="VMBACKUP_JWT_ISSUER"):
        create_app(settings(jwt_hs256_secret="s" * 40))


def test_sandbox_starts_without_auth_configuration() -> None:
    assert create_app(settings(sandbox=True)).title == "vmbackup"


def test_two_jwt_key_sources_are_rejected() -> None:
    with pytest.raises(ValueError, match="only one of"):
        settings(jwt_hs256_secret="s" * 40, jwt_jwks_url="https://idp.example/jwks")


def test_cli_serve_explains_what_to_set(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"], capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "VMBACKUP_SANDBOX": "false"}, check=False, cwd=str(tmp_path),
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "VMBACKUP_API_KEYS" in result.stderr
