"""Deterministic identifiers: the same sequence of calls yields the same IDs on every run."""

from __future__ import annotations

import itertools
import random
import uuid


class IdFactory:
    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)  # noqa: S311 - identifiers, not secrets
        self._sequence = itertools.count(1)

    def sequence(self) -> int:
        """A number that grows with every object created: a stable listing order."""
        return next(self._sequence)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def upper_uuid(self) -> str:
        return self.uuid().upper()

    def version_id(self) -> str:
        # Plan version IDs are opaque 32-character strings on AWS.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self._random.choice(alphabet) for _ in range(32))
