"""Plays shell text made of curl commands (the README's tour) against an app in the test.

`curl` becomes a request through the test's HTTP client, `python3` runs for real on the
output piped into it, `sleep N` is handed to the caller (the walk turns it into time on the
emulator's clock), and `NAME=value` / `NAME=$(...)` set variables as a shell would. Anything
else fails: the tour must stay within what a newcomer can paste.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.shell import Pipeline, Substitution, Var, Word, parse_shell

SANDBOX_ORIGIN = "localhost:8000"
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


@dataclass
class Step:
    """One request the tour made and what it got."""

    method: str
    url: str  # path and query, as written in the tour
    status: int
    headers: httpx.Headers
    body: Any  # the JSON answer, or the text when it is not JSON


@dataclass
class TourPlayer:
    client: httpx.AsyncClient
    on_sleep: Callable[[float], Awaitable[None]]
    env: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)

    async def play(self, shell_text: str) -> None:
        for pipeline in parse_shell(shell_text):
            await self._pipeline(pipeline)

    async def _pipeline(self, pipeline: Pipeline) -> str:
        output = ""
        for command in pipeline:
            argv = [await self._expand(word) for word in command]
            output = await self._command(argv, output)
        return output

    async def _expand(self, word: Word) -> str:
        text = ""
        for part in word:
            if isinstance(part, Var):
                assert part.name in self.env, f"the tour uses ${part.name} before setting it"
                text += self.env[part.name]
            elif isinstance(part, Substitution):
                output = ""
                for pipeline in part.pipelines:
                    output = await self._pipeline(pipeline)
                text += output.rstrip("\n")
            else:
                text += part
        return text

    async def _command(self, argv: list[str], stdin: str) -> str:
        assignment = _ASSIGNMENT.match(argv[0])
        if assignment is not None and len(argv) == 1:
            self.env[assignment.group(1)] = assignment.group(2)
            return ""
        if argv[0] == "curl":
            return await self._curl(argv[1:])
        if argv[0] == "sleep":
            await self.on_sleep(float(argv[1]))
            return ""
        if argv[0] == "python3":
            done = await asyncio.to_thread(
                subprocess.run, [sys.executable, *argv[1:]],
                input=stdin, capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"python3 {argv[1:]} failed on {stdin!r}: {done.stderr}"
            return done.stdout
        raise AssertionError(f"the tour runs {argv[0]!r}, which a walk cannot play")

    async def _curl(self, args: list[str]) -> str:
        method, data, url = None, None, None
        headers: dict[str, str] = {}
        arguments = iter(args)
        for argument in arguments:
            if argument in ("-s", "--silent"):
                continue
            if argument in ("-H", "--header"):
                name, _, value = next(arguments).partition(":")
                headers[name.strip()] = value.strip()
            elif argument in ("-X", "--request"):
                method = next(arguments)
            elif argument in ("-d", "--data"):
                data = next(arguments)
            else:
                assert not argument.startswith("-"), f"curl option {argument} is not played"
                url = argument
        assert url is not None, f"curl without a URL: {args}"
        url = url.removeprefix("http://")
        assert url.startswith(SANDBOX_ORIGIN + "/"), f"the tour calls {url}, not the sandbox"
        path = url.removeprefix(SANDBOX_ORIGIN)
        if data is not None:  # as curl -d does
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        method = method or ("POST" if data is not None else "GET")
        response = await self.client.request(method, path, headers=headers, content=data)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        self.steps.append(Step(method, path, response.status_code, response.headers, body))
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {body}"
        return response.text
