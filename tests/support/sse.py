"""A small server-sent events reader for tests: messages as dicts of their fields."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx


async def messages(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """Each message (blank-line terminated) as {field: value}; a comment line is yielded as
    {"comment": text} on its own."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield fields
            fields = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def next_events(stream: AsyncIterator[dict[str, str]], count: int) -> list[dict[str, str]]:
    """The next ``count`` events of the stream (comments and retry lines skipped)."""
    found: list[dict[str, str]] = []
    async for message in stream:
        if "data" in message:
            found.append(message)
            if len(found) == count:
                break
    return found
