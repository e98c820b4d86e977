"""The small part of POSIX shell syntax the README's tour uses, parsed so a test can play it.

Commands are split on newlines and `;`, pipelines on `|`; words keep their quoting (single
quotes literal, double quotes expand `$NAME`), `\\` + newline continues a line, `#` starts a
comment, and `$(...)` is a command substitution. Expansion is left to the player, which runs
the commands one by one, so a variable set by one command is seen by the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Substitution:
    pipelines: list[Pipeline]


Part = str | Var | Substitution
Word = list[Part]
Command = list[Word]
Pipeline = list[Command]


@dataclass
class _Parser:
    text: str
    pos: int = 0
    pipelines: list[Pipeline] = field(default_factory=list)
    pipeline: Pipeline = field(default_factory=list)
    command: Command = field(default_factory=list)
    word: Word | None = None

    def parse(self) -> list[Pipeline]:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                if self._peek() == "\n":
                    self.pos += 1  # a continued line
                else:
                    self._literal(self._take())
            elif char in " \t":
                self._end_word()
            elif char in "\n;":
                self._end_pipeline()
            elif char == "|":
                self._end_command()
            elif char == "#" and self.word is None:
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            elif char == "'":
                end = self.text.index("'", self.pos)
                self._literal(self.text[self.pos:end])
                self.pos = end + 1
            elif char == '"':
                self._double_quoted()
            elif char == "$":
                self._part(self._expansion())
            else:
                self._literal(char)
        self._end_pipeline()
        return self.pipelines

    def _double_quoted(self) -> None:
        self._literal("")  # "" is a word of its own
        while (char := self._take()) != '"':
            if char == "\\" and self._peek() in '$"\\`':
                self._literal(self._take())
            elif char == "$":
                self._part(self._expansion())
            else:
                self._literal(char)

    def _expansion(self) -> Part:
        if self._peek() == "(":
            self.pos += 1
            start = self.pos
            self._skip_to_closing_parenthesis()
            return Substitution(_Parser(self.text[start:self.pos - 1]).parse())
        if self._peek() == "{":
            end = self.text.index("}", self.pos)
            name = self.text[self.pos + 1:end]
            self.pos = end + 1
            return Var(name)
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum()
                                             or self.text[self.pos] == "_"):
            self.pos += 1
        return Var(self.text[start:self.pos]) if self.pos > start else "$"

    def _skip_to_closing_parenthesis(self) -> None:
        depth, quote = 1, None
        while depth:
            char = self._take()
            if quote is not None:
                quote = None if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1

    def _take(self) -> str:
        if self.pos >= len(self.text):
            raise ValueError("unterminated quote or substitution in the shell text")
        char = self.text[self.pos]
        self.pos += 1
        return char

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _literal(self, text: str) -> None:
        self._part(text)

    def _part(self, part: Part) -> None:
        if self.word is None:
            self.word = []
        if isinstance(part, str) and self.word and isinstance(self.word[-1], str):
            self.word[-1] += part
        else:
            self.word.append(part)

    def _end_word(self) -> None:
        if self.word is not None:
            self.command.append(self.word)
            self.word = None

    def _end_command(self) -> None:
        self._end_word()
        if self.command:
            self.pipeline.append(self.command)
            self.command = []

    def _end_pipeline(self) -> None:
        self._end_command()
        if self.pipeline:
            self.pipelines.append(self.pipeline)
            self.pipeline = []


def parse_shell(text: str) -> list[Pipeline]:
    return _Parser(text).parse()


def fenced_block_after(markdown: str, marker: str) -> str:
    """The first fenced code block after the line containing ``marker``."""
    after = markdown[markdown.index(marker):]
    start = after.index("```")
    body_start = after.index("\n", start) + 1
    return after[body_start:after.index("\n```", body_start) + 1]
