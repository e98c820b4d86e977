"""Webhook signing secrets: made here, shown once, stored encrypted, used to sign.

A signature needs the secret itself, so it cannot be stored as a hash the way API keys are.
It is stored encrypted (AES-256-GCM) under a key derived from the server's secret key
(VMBACKUP_SECRET_KEY, or the key derived from the authentication settings when that is unset),
so a copy of the database alone does not give the secrets away. Each row names the key it was
encrypted with (``secret_key_id``): when the server key changes, deliveries of the affected
subscriptions fail with a message that says so, and rotating the secret (PATCH
``rotate_secret``) mends them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SIGNATURE_HEADER = "Vmbackup-Signature"


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another server key."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _key(server_key: bytes) -> bytes:
    return hmac.new(server_key, b"vmbackup webhook secrets v1", hashlib.sha256).digest()


def key_id(server_key: bytes) -> str:
    return hashlib.sha256(_key(server_key)).hexdigest()[:16]


def encrypt(secret: str, server_key: bytes) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(server_key)).encrypt(nonce, secret.encode(), b"webhook-secret")
    return base64.b64encode(nonce + sealed).decode()


def decrypt(stored: str, stored_key_id: str, server_key: bytes) -> str:
    if stored_key_id != key_id(server_key):
        raise SecretUnreadable(
            "The signing secret was stored under another server key (VMBACKUP_SECRET_KEY "
            "changed?): rotate the secret with PATCH /webhooks/{id} rotate_secret=true.")
    raw = base64.b64decode(stored)
    try:
        return AESGCM(_key(server_key)).decrypt(raw[:12], raw[12:], b"webhook-secret").decode()
    except InvalidTag as exc:
        raise SecretUnreadable("The stored signing secret does not decrypt.") from exc


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body,
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
